import { HostError } from '../../../../host-bridge/src/errors';
import { startDevhostWeb, WebError, type DevhostWeb } from '../../../../host-bridge/src/devhost/web';
import { BOB_FP, CAROL_FP, FakeBackend, PANEL_TOKEN, SELF_FP, chatMessage, peer } from './fake-backend';
import { LiveClient, request } from './http-client';

const TOKEN = 'test-ui-token-0123456789';

let backend: FakeBackend;
let web: DevhostWeb;
const clients: LiveClient[] = [];

beforeEach(async () => {
  backend = new FakeBackend();
  web = await startDevhostWeb({ backend, host: '127.0.0.1', port: 0, token: TOKEN });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await web.close();
});

const auth = { 'x-devhost-token': TOKEN };
const json = { ...auth, 'content-type': 'application/json' };
const get = (path: string, headers: Record<string, string> = auth) => request(web.port, { path, headers });
const post = (path: string, body: unknown, headers: Record<string, string> = json) =>
  request(web.port, { method: 'POST', path, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

async function live(origin = `http://127.0.0.1:${web.port}`, token = TOKEN): Promise<LiveClient> {
  const c = await LiveClient.open(`ws://127.0.0.1:${web.port}/ws?t=${token}`, origin);
  clients.push(c);
  return c;
}

describe('startDevhostWeb', () => {
  it('prints a loopback URL that carries the token', () => {
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/?t=${TOKEN}`);
    expect(web.port).toBeGreaterThan(0);
  });

  it('generates a long random token when none is given', async () => {
    const other = await startDevhostWeb({ backend, port: 0 });
    try {
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(other.token).not.toBe(TOKEN);
      expect(other.url).toBe(`http://127.0.0.1:${other.port}/?t=${other.token}`);
    } finally {
      await other.close();
    }
  });

  it('refuses to listen anywhere but loopback, and refuses a malformed token', async () => {
    await expect(startDevhostWeb({ backend, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(startDevhostWeb({ backend, token: 'short' })).rejects.toBeInstanceOf(WebError);
    await expect(startDevhostWeb({ backend, token: 'a"><script>alert(1)</script>xxxx' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('closes when its signal aborts: the port stops answering and live sockets close', async () => {
    const controller = new AbortController();
    const other = await startDevhostWeb({ backend, port: 0, token: TOKEN, signal: controller.signal });
    const c = await LiveClient.open(`ws://127.0.0.1:${other.port}/ws?t=${TOKEN}`, `http://127.0.0.1:${other.port}`);
    const closed = c.closed();
    controller.abort();
    expect(await closed).toBe(1001);
    await other.close(); // idempotent
    await expect(request(other.port, { path: '/', headers: auth })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('does not start with an already aborted signal', async () => {
    await expect(startDevhostWeb({ backend, signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe('guards', () => {
  it.each(['/', '/app.js', '/app.css', '/api/state', '/api/chat?peer=' + BOB_FP])('answers 401 on %s without a token', async (path) => {
    const r = await get(path, {});
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('UNAUTHENTICATED');
    expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('tells a person who opened the bare address how to get in, still with 401', async () => {
    const r = await get('/', { accept: 'text/html,application/xhtml+xml' });
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toContain('access token');
    expect(r.text).not.toContain(TOKEN);
  });

  it('answers 401 to a wrong token, in header or query', async () => {
    expect((await get('/api/state', { 'x-devhost-token': TOKEN.slice(0, -1) + 'X' })).status).toBe(401);
    expect((await get('/api/state?t=nope', {})).status).toBe(401);
    expect((await get('/api/state', { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('accepts the token as header, as Bearer, or as ?t=', async () => {
    expect((await get('/api/state')).status).toBe(200);
    expect((await get('/api/state', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(`/api/state?t=${TOKEN}`, {})).status).toBe(200);
  });

  it('answers 403 to a foreign Host header even with the right token (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${web.port}`, `127.0.0.1:${web.port + 1}`, `127.0.0.2:${web.port}`]) {
      const r = await get('/api/state', { ...auth, host });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('BAD_HOST');
    }
    expect((await get('/api/state', { ...auth, host: `localhost:${web.port}` })).status).toBe(200);
    expect((await get('/api/state', { ...auth, host: `LOCALHOST:${web.port}` })).status).toBe(200);
  });

  it('refuses writes from a foreign Origin', async () => {
    const r = await post('/api/chat', { peer: BOB_FP, text: 'hi' }, { ...json, origin: 'http://evil.example' });
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('BAD_ORIGIN');
    expect(backend.callsOf('sendChat')).toHaveLength(0);
    const ok = await post('/api/chat', { peer: BOB_FP, text: 'hi' }, { ...json, origin: `http://localhost:${web.port}` });
    expect(ok.status).toBe(201);
  });

  it('refuses a WebSocket without the token, with a foreign Origin, with no Origin, or off /ws', async () => {
    await expect(LiveClient.open(`ws://127.0.0.1:${web.port}/ws`, `http://127.0.0.1:${web.port}`)).rejects.toMatchObject({ status: 401 });
    await expect(live('http://evil.example')).rejects.toMatchObject({ status: 403 });
    await expect(LiveClient.open(`ws://127.0.0.1:${web.port}/ws?t=${TOKEN}`)).rejects.toMatchObject({ status: 403 });
    await expect(LiveClient.open(`ws://127.0.0.1:${web.port}/other?t=${TOKEN}`, `http://127.0.0.1:${web.port}`)).rejects.toMatchObject({ status: 404 });
  });
});

describe('the page', () => {
  it('serves the HTML with its assets linked under the token, behind a strict CSP', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toContain(`/app.js?t=${TOKEN}`);
    expect(r.text).toContain(`/app.css?t=${TOKEN}`);
    expect(r.text).not.toContain('__TOKEN__');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    // Accessible landmarks the page is built on.
    expect(r.text).toMatch(/role="tablist"/);
    expect(r.text).toMatch(/<label for="add-text">/);
    expect(r.text).toMatch(/role="log"/);
    // Empty states are in the page itself, shown until there is something to show.
    expect(r.text).toContain('No friends yet — exchange certificates');
    expect(r.text).toContain('No messages yet');
  });

  it('serves the script and the style with their types', async () => {
    const js = await get(`/app.js?t=${TOKEN}`, {});
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.text).toContain('x-devhost-token');
    const css = await get(`/app.css?t=${TOKEN}`, {});
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('answers 404 for unknown paths and 405 for wrong methods', async () => {
    expect((await get('/nope')).json.error.code).toBe('NOT_FOUND');
    expect((await get('/api/nope')).status).toBe(404);
    const put = await request(web.port, { method: 'PUT', path: '/api/state', headers: auth });
    expect(put.status).toBe(405);
    expect(put.json.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('GET /api/state', () => {
  it('gives self, certificate, peers, rooms and panels, and no panel token', async () => {
    const r = await get('/api/state');
    expect(r.status).toBe(200);
    expect(r.json.self.fingerprint).toBe(SELF_FP);
    expect(r.json.self.displayName).toBe('Alice');
    expect(r.json.certificate).toBe(backend.cert);
    expect(r.json.peers.map((p: { name: string; online: boolean }) => [p.name, p.online])).toEqual([['Bob', true], ['Carol', false]]);
    expect(r.json.rooms).toEqual(backend.rooms);
    expect(r.json.panels).toEqual(backend.panels);
    expect(r.text).not.toContain(PANEL_TOKEN);
    expect(r.headers['cache-control']).toBe('no-store');
  });
});

describe('POST /api/friends', () => {
  it('adds a friend from a pasted certificate (trimmed)', async () => {
    const r = await post('/api/friends', { cert: '  \n' + backend.cert + '\n ' });
    expect(r.status).toBe(201);
    expect(r.json.peer.name).toBe('Dave');
    expect(backend.callsOf('addFriend')).toEqual([[backend.cert]]);
  });

  it('answers 400 with the backend’s own message when the backend rejects the certificate', async () => {
    backend.failWith.addFriend = new Error('certificate checksum does not match');
    const r = await post('/api/friends', { cert: 'garbage' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: { code: 'INVALID_CERTIFICATE', message: 'certificate checksum does not match' } });
  });

  it('keeps the meaning of a coded backend error', async () => {
    backend.failWith.addFriend = new HostError('FAILED_PRECONDITION', 'that is your own certificate');
    const r = await post('/api/friends', { cert: backend.cert });
    expect(r.status).toBe(409);
    expect(r.json.error).toEqual({ code: 'FAILED_PRECONDITION', message: 'that is your own certificate' });
  });

  it.each([
    ['an empty certificate', { cert: '   ' }, 400, 'INVALID_CERTIFICATE'],
    ['a certificate that is not a string', { cert: 42 }, 400, 'INVALID_CERTIFICATE'],
    ['an unknown field', { cert: 'x', admin: true }, 400, 'INVALID_ARGUMENT'],
    ['a JSON array', [1], 400, 'INVALID_ARGUMENT'],
    ['broken JSON', '{"cert": ', 400, 'INVALID_ARGUMENT'],
    ['no body', '', 400, 'INVALID_ARGUMENT'],
  ])('refuses %s without calling the backend', async (_what, body, status, code) => {
    const r = await post('/api/friends', body);
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    expect(typeof r.json.error.message).toBe('string');
    expect(backend.callsOf('addFriend')).toHaveLength(0);
  });

  it('refuses a body that is not JSON (415) and one that is too large (413)', async () => {
    const form = await post('/api/friends', 'cert=x', { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const big = await post('/api/friends', { cert: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(backend.callsOf('addFriend')).toHaveLength(0);
  });
});

describe('DELETE /api/friends/:fp', () => {
  const del = (fp: string) => request(web.port, { method: 'DELETE', path: `/api/friends/${fp}`, headers: auth });

  it('removes a friend', async () => {
    const r = await del(CAROL_FP.toLowerCase());
    expect(r.status).toBe(204);
    expect(backend.callsOf('removeFriend')).toEqual([[CAROL_FP]]);
  });

  it('answers 400 to a malformed fingerprint and 404 to one that is not a friend', async () => {
    expect((await del('XYZ')).status).toBe(400);
    expect((await del('%ZZ')).status).toBe(400);
    const r = await del('E'.repeat(40));
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('NOT_FOUND');
    expect(backend.callsOf('removeFriend')).toHaveLength(0);
  });
});

describe('chat API', () => {
  it('gives the history of a friend or a room, with the limit asked for', async () => {
    const r = await get(`/api/chat?peer=${BOB_FP}`);
    expect(r.status).toBe(200);
    expect(r.json.messages).toEqual(backend.history);
    expect(await get('/api/chat?room=family&limit=5')).toMatchObject({ status: 200 });
    expect(backend.callsOf('chatHistory')).toEqual([[{ peer: BOB_FP }, 200], [{ room: 'family' }, 5]]);
  });

  it.each([
    ['neither peer nor room', '/api/chat'],
    ['both peer and room', `/api/chat?peer=${BOB_FP}&room=family`],
    ['a bad fingerprint', '/api/chat?peer=123'],
    ['a bad limit', `/api/chat?peer=${BOB_FP}&limit=-1`],
    ['a huge limit', `/api/chat?peer=${BOB_FP}&limit=100000`],
    ['an unknown parameter', `/api/chat?peer=${BOB_FP}&since=3`],
  ])('answers 400 to %s', async (_what, path) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('INVALID_ARGUMENT');
    expect(backend.callsOf('chatHistory')).toHaveLength(0);
  });

  it('sends a message through the backend and returns it', async () => {
    const r = await post('/api/chat', { peer: BOB_FP, text: 'see you at 8' });
    expect(r.status).toBe(201);
    expect(r.json.message).toMatchObject({ text: 'see you at 8', outgoing: true, peer: BOB_FP });
    expect(r.json.deliveredTo).toEqual([BOB_FP]);
    const room = await post('/api/chat', { room: 'family', text: 'hi all' });
    expect(room.status).toBe(201);
    expect(backend.callsOf('sendChat')).toEqual([[{ peer: BOB_FP }, 'see you at 8'], [{ room: 'family' }, 'hi all']]);
  });

  it('maps backend failures onto HTTP statuses', async () => {
    backend.failWith.sendChat = new HostError('UNAVAILABLE', 'Bob is offline');
    const r = await post('/api/chat', { peer: BOB_FP, text: 'x' });
    expect(r.status).toBe(503);
    expect(r.json.error).toEqual({ code: 'UNAVAILABLE', message: 'Bob is offline' });
    backend.failWith.sendChat = new HostError('UNAUTHENTICATED', 'peer key mismatch');
    // The backend's UNAUTHENTICATED is not about this UI's token: it must not look like a 401.
    expect((await post('/api/chat', { peer: BOB_FP, text: 'x' })).status).toBe(500);
  });

  it.each([
    ['empty text', { peer: BOB_FP, text: ' \n ' }],
    ['text that is not a string', { peer: BOB_FP, text: ['a'] }],
    ['text that is too long', { peer: BOB_FP, text: 'x'.repeat(8001) }],
    ['no target', { text: 'hi' }],
    ['a room with control characters', { room: 'a\u0000b', text: 'hi' }],
    ['an unknown field', { peer: BOB_FP, text: 'hi', from: SELF_FP }],
  ])('refuses %s without calling the backend', async (_what, body) => {
    const r = await post('/api/chat', body);
    expect(r.status).toBe(400);
    expect(backend.callsOf('sendChat')).toHaveLength(0);
  });
});

describe('panels', () => {
  it('hands out the iframe address with #token=<panel token> appended', async () => {
    const r = await get('/api/panels/kinfolder/folders/frame');
    expect(r.status).toBe(200);
    expect(r.json.src).toBe(`http://127.0.0.1:9/panel/#token=${PANEL_TOKEN}`);
  });

  it('answers 404 for a panel that is not registered', async () => {
    const r = await get('/api/panels/kinfolder/other/frame');
    expect(r.status).toBe(404);
  });

  it('refuses to embed a panel on the UI’s own origin or off loopback', async () => {
    backend.panels = [
      { pluginId: 'p', id: 'same', title: 'Same', icon: '', url: `http://localhost:${web.port}/steal` },
      { pluginId: 'p', id: 'far', title: 'Far', icon: '', url: 'http://example.com/panel' },
      { pluginId: 'p', id: 'js', title: 'JS', icon: '', url: 'javascript:alert(1)' },
    ];
    for (const id of ['same', 'far', 'js']) {
      const r = await get(`/api/panels/p/${id}/frame`);
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe('PANEL_URL_REFUSED');
    }
  });
});

describe('live updates over /ws', () => {
  it('starts with a snapshot of peers and panels', async () => {
    const c = await live();
    const peers = await c.next((m) => m.type === 'peers');
    expect(peers.peers.map((p: { fingerprint: string }) => p.fingerprint)).toEqual([BOB_FP, CAROL_FP]);
    const panels = await c.next((m) => m.type === 'panels');
    expect(panels.panels).toEqual(backend.panels);
    expect(JSON.stringify(c.received)).not.toContain(PANEL_TOKEN);
  });

  it('pushes a chat message from the backend to every page', async () => {
    const a = await live();
    const b = await live(`http://localhost:${web.port}`);
    const msg = chatMessage({ id: 'live-1', text: 'are you there?' });
    backend.chatMessages.next(msg);
    expect((await a.next((m) => m.type === 'chat')).message).toEqual(msg);
    expect((await b.next((m) => m.type === 'chat')).message).toEqual(msg);
  });

  it('pushes peer changes and panel changes', async () => {
    const c = await live();
    await c.next((m) => m.type === 'panels');
    backend.peerEvents.next({ kind: 'changed', peer: peer(CAROL_FP, 'Carol', true) });
    backend.peerEvents.next({ kind: 'removed', fingerprint: BOB_FP });
    const changed = await c.next((m) => m.type === 'peer' && m.event.kind === 'changed');
    expect(changed.event.peer).toMatchObject({ fingerprint: CAROL_FP, online: true });
    expect((await c.next((m) => m.type === 'peer' && m.event.kind === 'removed')).event.fingerprint).toBe(BOB_FP);
    const newPanels = [{ pluginId: 'kinfolder', id: 'activity', title: 'Activity', icon: '⚡', url: 'http://127.0.0.1:9/a' }];
    backend.panelEvents.next(newPanels);
    expect((await c.next((m) => m.type === 'panels' && m.panels[0]?.id === 'activity')).panels).toEqual(newPanels);
  });

  it('closes live sockets with 1011 when a backend stream fails', async () => {
    const c = await live();
    await c.next((m) => m.type === 'panels');
    const closed = c.closed();
    backend.chatMessages.error(new Error('node stopped'));
    expect(await closed).toBe(1011);
  });
});
