// The panel's client of the sidecar API: JSON calls that carry the token, and the event socket.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

export function createApi(token) {
  async function request(method, path, body, { raw = false } = {}) {
    // The sidecar answers 503 UNAVAILABLE for a moment after the host shows the panel (its
    // token is on the way): ask again with a short backoff instead of showing an error.
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await fetch(path, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch {
        throw new ApiError(0, 'OFFLINE', 'Cannot reach Kinfolder: is the sidecar running?');
      }
      if (res.ok) return raw ? new Uint8Array(await res.arrayBuffer()) : res.json();
      const err = await res.json().then((b) => b && b.error, () => null);
      if (res.status === 503 && err && err.code === 'UNAVAILABLE' && attempt < 15) {
        await sleep(Math.min(200 * 2 ** attempt, 2000));
        continue;
      }
      if (res.status === 401) throw new ApiError(401, 'UNAUTHENTICATED', 'This panel\'s access token is no longer valid (the host may have restarted). Reopen the panel from your chat host.');
      throw new ApiError(res.status, err ? err.code : `HTTP_${res.status}`, err ? err.message : res.statusText);
    }
  }
  const f = (id) => `api/folders/${encodeURIComponent(id)}`;
  const q = (params) => new URLSearchParams(params).toString();
  return {
    status: () => request('GET', 'api/status'),
    self: () => request('GET', 'api/self'),
    friends: () => request('GET', 'api/friends'),
    folders: () => request('GET', 'api/folders'),
    folder: (id) => request('GET', f(id)),
    createFolder: (name, root) => request('POST', 'api/folders', { name, root }),
    leaveFolder: (id) => request('POST', `${f(id)}/leave`),
    invitations: () => request('GET', 'api/invitations'),
    accept: (folder, root) => request('POST', `api/invitations/${encodeURIComponent(folder)}/accept`, { root }),
    decline: (folder) => request('POST', `api/invitations/${encodeURIComponent(folder)}/decline`),
    members: (id) => request('GET', `${f(id)}/members`),
    editMember: (id, edit) => request('POST', `${f(id)}/members`, edit),
    manifestHistory: (id) => request('GET', `${f(id)}/manifest-history`),
    files: (id, dir) => request('GET', `${f(id)}/files?${q({ dir })}`),
    readFile: (id, path, version, maxBytes = 262144) => request('GET', `${f(id)}/file?${q({ path, maxBytes, ...(version ? { version } : {}) })}`, undefined, { raw: true }),
    activity: (id, limit = 50) => request('GET', `${f(id)}/activity?${q({ limit })}`),
    versions: (id, path) => request('GET', `${f(id)}/versions?${q({ path })}`),
    restore: (id, path, version) => request('POST', `${f(id)}/restore`, { path, version }),
    deleted: (id) => request('GET', `${f(id)}/deleted`),
    conflicts: (id) => request('GET', `${f(id)}/conflicts`),
    resolve: (id, path, choice) => request('POST', `${f(id)}/conflicts/resolve`, { path, ...choice }),
    chatHistory: (id, limit = 200) => request('GET', `${f(id)}/chat?${q({ limit })}`),
    sendChat: (id, text) => request('POST', `${f(id)}/chat`, { text }),
  };
}

/**
 * The live event socket: reconnects with backoff; `onState('live' | 'offline')`. After every
 * (re)connect the server sends `ready`, on which the page refetches what it shows (events
 * sent while it was away are lost).
 */
export function connectEvents(token, onEvent, onState) {
  let delay = 500;
  let stopped = false;
  let ws;
  let timer;
  const open = () => {
    const url = new URL('api/events', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    try {
      ws = new WebSocket(url, ['kinfolder', `kinfolder-token.${token}`]);
    } catch {
      // A token with characters a subprotocol may not carry: send it in the query instead.
      url.searchParams.set('t', token);
      ws = new WebSocket(url, ['kinfolder']);
    }
    ws.onmessage = (m) => {
      let event;
      try { event = JSON.parse(m.data); } catch { return; }
      if (event.type === 'ready') { delay = 500; onState('live'); }
      onEvent(event);
    };
    ws.onclose = (ev) => {
      if (stopped) return;
      // 1013 at once: the sidecar runs no folder service yet (or we fell behind): not an outage.
      onState(ev.code === 1013 ? 'waiting' : 'offline');
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 8000);
    };
  };
  open();
  return { close() { stopped = true; clearTimeout(timer); ws && ws.close(); } };
}
