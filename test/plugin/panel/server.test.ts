import * as http from 'node:http';
import WebSocket from 'ws';
import { ServiceError } from '../../../plugin/src/folders/errors';
import { startPanelServer, type PanelServer } from '../../../plugin/src/panel';
import { BOB, CAROL, FakeFolderService } from './fake-service';

const TOKEN = 'panel-token-0123456789abcdef';
let service: FakeFolderService;
let panel: PanelServer;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  service = FakeFolderService.seeded();
  panel = await startPanelServer({ service, status: async () => ({ legacy: true }) });
  panel.setToken(TOKEN);
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) {
    ws.on('error', () => {}); // terminating a socket still connecting reports an error we do not care about
    ws.terminate();
  }
  await panel.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(new URL(path, panel.url), init);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, body: type.startsWith('application/json') ? await res.json() : await res.text(), headers: res.headers };
}

/** A raw request, for headers fetch will not let us set (Host). */
function raw(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: panel.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the event socket and resolves with it and its messages once the server says `ready`. */
function openEvents(opts: { protocols?: string[]; query?: string }): Promise<{ ws: WebSocket; messages: unknown[] }> {
  const ws = new WebSocket(`${panel.url.replace('http', 'ws')}api/events${opts.query ?? ''}`, opts.protocols ?? []);
  sockets.push(ws);
  const messages: unknown[] = [];
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.type === 'ready') resolve({ ws, messages });
      else messages.push(m);
    });
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', reject);
  });
}

function nextMessage(messages: unknown[], ws: WebSocket, pred: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
  const found = messages.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no such event within the timeout')), timeoutMs);
    const on = (data: WebSocket.RawData) => {
      const m = JSON.parse(String(data));
      if (pred(m)) {
        clearTimeout(timer);
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

describe('panel API: who may call it', () => {
  it('refuses a missing or wrong token with 401 and does not reach the service', async () => {
    const none = await call('GET', '/api/folders', undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringMatching(/token/) } });
    const wrong = await call('GET', '/api/folders', undefined, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
    const longer = await call('POST', '/api/folders', { name: 'x', root: '/tmp/x' }, { authorization: `Bearer ${TOKEN}x` });
    expect(longer.status).toBe(401);
    expect(service.calls.map((c) => c.method)).toEqual([]);
  });

  it('says 503 "not registered yet" before the host issued a token, then accepts the new token only', async () => {
    const fresh = await startPanelServer({ service });
    try {
      const res = await fetch(new URL('/api/folders', fresh.url), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(503);
      expect((await res.json()).error.code).toBe('UNAVAILABLE');
      fresh.setToken('second-token-abcdefghijkl');
      const old = await fetch(new URL('/api/folders', fresh.url), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(old.status).toBe(401);
      const ok = await fetch(new URL('/api/folders', fresh.url), { headers: { authorization: 'Bearer second-token-abcdefghijkl' } });
      expect(ok.status).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a Host header that does not name the loopback server (DNS rebinding), even with the token', async () => {
    const res = await raw('/api/folders', { host: `evil.example:${panel.port}`, authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe('BAD_HOST');
    const page = await raw('/', { host: 'evil.example' });
    expect(page.status).toBe(403);
    expect((await raw('/', { host: `localhost:${panel.port}` })).status).toBe(200);
  });

  it('listens on loopback only', () => {
    expect(panel.url).toBe(`http://127.0.0.1:${panel.port}/`);
  });

  it('serves the static page without a token, with a CSP, and nothing outside ui-panel/', async () => {
    const page = await fetch(panel.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-testid="app"');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const js = await fetch(new URL('/js/app.js', panel.url));
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/js/%2e%2e/%2e%2e/package.json', '/.git/config', '/API.md']) {
      expect((await raw(p, { host: `127.0.0.1:${panel.port}` })).status).toBe(404);
    }
  });

  it('keeps the older GET /api/status working for the sidecar', async () => {
    expect(await call('GET', '/api/status')).toMatchObject({ status: 200, body: { legacy: true } });
  });
});

describe('panel API: routes over the folder service', () => {
  it('lists folders, invitations, friends and self', async () => {
    const folders = await call('GET', '/api/folders');
    expect(folders.status).toBe(200);
    expect(folders.body.map((f: { id: string }) => f.id)).toEqual(['f-photos', 'f-recipes']);
    expect((await call('GET', '/api/invitations')).body).toEqual([expect.objectContaining({ folder: 'f-music' })]);
    expect((await call('GET', '/api/friends')).body).toHaveLength(3);
    expect((await call('GET', '/api/self')).body.name).toBe('Alice');
    expect((await call('GET', '/api/folders/f-photos')).body.status.state).toBe('transferring');
  });

  it('creates a folder (201) and passes name and root as given', async () => {
    const res = await call('POST', '/api/folders', { name: 'Taxes', root: '/home/alice/Taxes' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Taxes', root: '/home/alice/Taxes', role: 'admin' });
    expect(service.calls.at(-1)).toEqual({ method: 'createFolder', args: [{ name: 'Taxes', root: '/home/alice/Taxes' }] });
  });

  it('lists a directory, reads a file as bytes, and passes dir, path and version through decoded', async () => {
    const docs = await call('GET', '/api/folders/f-photos/files?dir=docs');
    expect(docs.body.map((f: { name: string }) => f.name).sort()).toEqual(['notes.md', 'plan.txt']);
    const file = await call('GET', `/api/folders/f-photos/file?path=${encodeURIComponent('docs/plan.txt')}&version=h-alice`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.body).toContain('old town');
  });

  it('edits members, resolves a conflict, restores, sends chat: each reaches the service', async () => {
    const invited = await call('POST', '/api/folders/f-photos/members', { kind: 'invite', fingerprint: 'D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4D4', role: 'writer', pathPrefixes: ['docs/'] });
    expect(invited.status).toBe(200);
    expect(invited.body.find((m: { name: string }) => m.name === 'Dave')).toMatchObject({ role: 'writer', pathPrefixes: ['docs/'] });
    expect((await call('POST', '/api/folders/f-photos/conflicts/resolve', { path: 'docs/plan.txt', keepBoth: true })).status).toBe(200);
    expect((await call('POST', '/api/folders/f-photos/restore', { path: 'old-draft.txt', version: 'v-draft-1' })).status).toBe(200);
    const sent = await call('POST', '/api/folders/f-photos/chat', { text: 'hello' });
    expect(sent.body).toMatchObject({ text: 'hello', outgoing: true });
    expect(service.calls.map((c) => c.method)).toEqual(['editMember', 'resolveConflict', 'restore', 'sendChat']);
  });
});

describe('panel API: refusals', () => {
  it('a role-refused action is 403 with the service\'s own code and message', async () => {
    const res = await call('POST', '/api/folders/f-recipes/members', { kind: 'role', fingerprint: BOB.fingerprint, role: 'reader' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'NOT_ADMIN', message: 'only an admin of this folder can change its members' } });
    const restore = await call('POST', '/api/folders/f-recipes/restore', { path: 'soup.md', version: 'v1' });
    expect(restore.status).toBe(403);
    expect(restore.body.error.code).toBe('NOT_A_WRITER');
    const leave = await call('POST', '/api/folders/f-photos/leave');
    expect(leave.status).toBe(403);
    expect(leave.body.error).toEqual({ code: 'LAST_ADMIN', message: expect.stringContaining('last admin') });
  });

  it('maps the other service codes: 404, 409, 503, 500', async () => {
    expect((await call('GET', '/api/folders/nope/members')).status).toBe(404);
    expect((await call('POST', '/api/folders', { name: 'again', root: '/home/alice/Recipes' })).body.error.code).toBe('ALREADY_EXISTS');
    service.failNext.set('folders', new ServiceError('HOST_UNAVAILABLE', 'the host is gone'));
    expect(await call('GET', '/api/folders')).toMatchObject({ status: 503, body: { error: { code: 'HOST_UNAVAILABLE', message: 'the host is gone' } } });
    await call('POST', '/api/folders/f-photos/conflicts/resolve', { path: 'docs/plan.txt', keep: 'h-bob' });
    const gone = await call('POST', '/api/folders/f-photos/conflicts/resolve', { path: 'docs/plan.txt', keep: 'h-bob' });
    expect(gone).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT_GONE' } } });
    service.failNext.set('members', new Error('disk on fire') as ServiceError);
    expect(await call('GET', '/api/folders/f-photos/members')).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL' } } });
  });

  it.each([
    ['not JSON', 'POST', '/api/folders', '{"name":', /not valid JSON/],
    ['an array', 'POST', '/api/folders', [], /JSON object/],
    ['a missing field', 'POST', '/api/folders', { name: 'x' }, /root must be a string/],
    ['an unknown field', 'POST', '/api/folders', { name: 'x', root: '/x', admin: true }, /unknown field\(s\): admin/],
    ['an empty name', 'POST', '/api/folders', { name: '  ', root: '/x' }, /name must not be empty/],
    ['a bad role', 'POST', '/api/folders/f-photos/members', { kind: 'invite', fingerprint: CAROL.fingerprint, role: 'owner' }, /role must be one of/],
    ['a bad edit kind', 'POST', '/api/folders/f-photos/members', { kind: 'promote', fingerprint: CAROL.fingerprint }, /kind must be one of/],
    ['prefixes not an array', 'POST', '/api/folders/f-photos/members', { kind: 'narrow', fingerprint: BOB.fingerprint, pathPrefixes: 'docs/' }, /pathPrefixes must be an array/],
    ['keep and keepBoth', 'POST', '/api/folders/f-photos/conflicts/resolve', { path: 'a', keep: 'h', keepBoth: true }, /either keep or keepBoth/],
    ['a NUL in a path', 'POST', '/api/folders/f-photos/restore', { path: 'a\0b', version: 'v' }, /NUL/],
    ['a bad limit', 'GET', '/api/folders/f-photos/activity?limit=0', undefined, /limit must be an integer/],
    ['a missing path', 'GET', '/api/folders/f-photos/versions', undefined, /path must be a string/],
    ['empty chat text', 'POST', '/api/folders/f-photos/chat', { text: '' }, /text must not be empty/],
    ['a bad path encoding', 'GET', '/api/folders/%E0%A4%A/members', undefined, /percent-encoding/],
  ])('bad input (%s) is 400 BAD_INPUT with a message naming the problem, and never reaches the service', async (_what, method, path, body, message) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BAD_INPUT');
    expect(res.body.error.message).toMatch(message);
    expect(service.calls).toEqual([]);
  });

  it('refuses a body over 64 KiB with 413, a non-JSON content type with 415, and unknown routes and methods', async () => {
    const big = await call('POST', '/api/folders/f-photos/chat', { text: 'x'.repeat(70_000) });
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'TOO_LARGE' } } });
    const form = await call('POST', '/api/folders', 'name=x&root=/x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expect((await call('GET', '/api/nothing')).status).toBe(404);
    expect((await call('DELETE', '/api/folders')).status).toBe(405);
    expect(service.calls).toEqual([]);
  });

  it('answers 503 NO_FOLDER_SERVICE while there is no folder service, then serves the one set later', async () => {
    const bare = await startPanelServer({});
    try {
      bare.setToken(TOKEN);
      const before = await fetch(new URL('/api/folders', bare.url), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(before.status).toBe(503);
      expect((await before.json()).error.code).toBe('NO_FOLDER_SERVICE');
      bare.setService(service);
      const after = await fetch(new URL('/api/folders', bare.url), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(after.status).toBe(200);
    } finally {
      await bare.close();
    }
  });
});

describe('panel API: the event WebSocket', () => {
  it('refuses an upgrade without the token or with a wrong one (401), and on another path (404)', async () => {
    await expect(openEvents({})).rejects.toMatchObject({ status: 401 });
    await expect(openEvents({ protocols: ['kinfolder', 'kinfolder-token.wrong'] })).rejects.toMatchObject({ status: 401 });
    await expect(openEvents({ query: '?t=wrong' })).rejects.toMatchObject({ status: 401 });
    const other = new WebSocket(`${panel.url.replace('http', 'ws')}api/folders?t=${TOKEN}`);
    sockets.push(other);
    await expect(new Promise((_ok, fail) => other.on('unexpected-response', (_q, r) => fail(r.statusCode)))).rejects.toBe(404);
  });

  it('takes the token as a subprotocol (never echoing it) and forwards service events as JSON', async () => {
    const { ws, messages } = await openEvents({ protocols: ['kinfolder', `kinfolder-token.${TOKEN}`] });
    expect(ws.protocol).toBe('kinfolder');
    service.receiveChat('f-photos', BOB, 'are you there?');
    const chat = await nextMessage(messages, ws, (m) => m.type === 'chat');
    expect(chat).toMatchObject({ type: 'chat', folder: 'f-photos', line: { text: 'are you there?', fromName: 'Bob' } });
    await call('POST', '/api/folders', { name: 'New', root: '/home/alice/New' });
    expect(await nextMessage(messages, ws, (m) => m.type === 'folders')).toEqual({ type: 'folders' });
  });

  it('takes the token as ?t=, and stops forwarding once the socket closes', async () => {
    const { ws, messages } = await openEvents({ query: `?t=${TOKEN}` });
    service.setStatus('f-recipes', { state: 'offline' });
    expect(await nextMessage(messages, ws, (m) => m.type === 'status')).toMatchObject({ folder: 'f-recipes', status: { state: 'offline' } });
    expect(service.events.observed).toBe(true);
    const closed = new Promise((ok) => ws.on('close', ok));
    ws.close();
    await closed;
    // The server's side of the close runs a moment after the client's: wait for it, bounded.
    const deadline = Date.now() + 5000;
    while (service.events.observed && Date.now() < deadline) await new Promise((ok) => setImmediate(ok));
    expect(service.events.observed).toBe(false);
  });

  it('closes open event sockets when the service is replaced, so the page reconnects to the new one', async () => {
    const { ws } = await openEvents({ query: `?t=${TOKEN}` });
    const closed = new Promise<number>((ok) => ws.on('close', (code) => ok(code)));
    panel.setService(FakeFolderService.seeded());
    expect(await closed).toBe(1012);
  });
});
