/**
 * Issue 6 end to end: three devhost nodes, each with the real Kinfolder sidecar as a child
 * process (as `npm start` runs them), and the real panel driven in Chromium inside each node's
 * devhost web UI. Files are written and read on the nodes' disks. With KINFOLDER_SCREENSHOTS=1
 * the views are saved to docs/screenshots/ for the README.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { PanelApiError } from '../../scripts/lib/panel-api';
import { startDemoNet, type DemoNet, type DemoNode } from './demo-net';
import { listFiles, openPanelTab, read, sel, until, write, type PanelTab } from './panel-driver';

jest.setTimeout(180_000);

const SAMPLES: Record<string, string> = {
  'README.txt': 'Welcome to the shared folder.\n',
  'docs/plan.md': '# Plan\n\n- pick a date\n- book the hall\n',
  'docs/budget.csv': 'item,cost\nhall,300\nfood,450\n',
};

let net: DemoNet;
let browser: Browser;
let alice: DemoNode, bob: DemoNode, carol: DemoNode;
const tabs: PanelTab[] = [];

beforeAll(async () => {
  [net, browser] = await Promise.all([startDemoNet(['Alice', 'Bob', 'Carol'], { readyMs: 90_000 }), launchBrowser()]);
  [alice, bob, carol] = net.nodes;
}, 150_000);

afterAll(async () => {
  for (const t of tabs.splice(0)) await t.close();
  await browser?.close();
  await net?.stop();
});

/** A failing wait says what the sidecars logged last. */
async function step<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    // What each panel showed, for the one reading the failure.
    const shown = await Promise.all(tabs.map(async (t, i) => `${net.nodes[i].name}: ${(await t.panel.locator('main, body').first().innerText({ timeout: 2000 }).catch(() => '?')).replace(/\s+/g, ' ').slice(0, 1500)}`));
    // And what each sidecar's API says of its folders: the status behind each panel's words.
    const said = await Promise.all(net.nodes.map(async (n) => `${n.name}: ${JSON.stringify(await n.api.get('/api/folders').catch((e: Error) => e.message)).slice(0, 3000)}`));
    throw new Error(`${what}: ${(err as Error).message}\n--- panels ---\n${shown.join('\n')}\n--- folder status ---\n${said.join('\n')}\n--- last log lines ---\n${net.logTail(30)}`);
  }
}

/** The HTTP status a WebSocket upgrade request gets (fetch cannot send one). */
function upgradeStatus(url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

const conflictCopies = (root: string, stem: string): string[] => listFiles(root).filter((p) => p.includes(`${stem}.sync-conflict-`));

test('a folder made, shared, synced, narrowed, in conflict, restored and talked about, all from the panels in the devhost UI', async () => {
  const [A, B, C] = await Promise.all([alice, bob, carol].map((n) => openPanelTab(browser, n.app.web.url)));
  tabs.push(A, B, C);
  const roots = { alice: path.join(alice.dir, 'Trip'), bob: path.join(bob.dir, 'Trip'), carol: path.join(carol.dir, 'Trip') };
  for (const [p, text] of Object.entries(SAMPLES)) write(roots.alice, p, text);

  // 1. Alice makes a folder of her local path.
  const folderId = await step('Alice creating the folder', async () => {
    await A.see(sel('no-folders'));
    await A.panel.locator(sel('add-folder')).click();
    await A.panel.locator(sel('create-name')).fill('Trip');
    await A.panel.locator(sel('create-root')).fill(roots.alice);
    await A.shot('create-folder');
    await A.panel.locator(sel('create-submit')).click();
    await A.see(sel('folder-title'), /^Trip$/);
    await A.see(sel('file-row', 'path', 'README.txt'));
    await A.see(sel('file-row', 'path', 'docs'));
    expect(await A.panel.locator(sel('folder-root')).textContent()).toBe(roots.alice);
    expect(await A.panel.locator(sel('folder-role')).textContent()).toBe('admin');
    return (await A.panel.locator(sel('folder-item')).getAttribute('data-folder'))!;
  });

  // 2. Alice invites Carol as reader and Bob as writer (members tab); each accepts in their own panel, choosing the path.
  await step('Alice inviting Carol and Bob', async () => {
    await A.panel.locator(sel('tab-members')).click();
    for (const [who, role, prefixes] of [[carol, 'reader', ''], [bob, 'writer', '']] as const) {
      await A.panel.locator(`${sel('invite-friend')} option[value="${who.fingerprint}"]`).waitFor({ state: 'attached' });
      // The members view redraws its invite form on every 'members' event, back to the first
      // friend, the writer role and no prefixes (see the report): choosing and submitting in
      // one task of the page, as a person's quick clicks between two events, keeps the choice.
      // (The form is looked up inside that task: a handle taken before could be detached by then.)
      await A.panel.locator('body').evaluate(
        (body, [fp, r, p]) => {
          const form = body.querySelector('[data-testid="invite-form"]') as HTMLFormElement;
          const field = (id: string) => form.querySelector(`[data-testid="${id}"]`) as HTMLInputElement | HTMLSelectElement;
          field('invite-friend').value = fp;
          field('invite-role').value = r;
          field('invite-prefixes').value = p;
          form.requestSubmit();
        },
        [who.fingerprint, role, prefixes] as const,
      );
      const row = await A.see(sel('member-row', 'fingerprint', who.fingerprint));
      expect(await row.getAttribute('data-role')).toBe(role);
      expect(await row.getAttribute('data-state')).toBe('invited');
    }
    await A.see(`${sel('manifest-history')} ${sel('manifest-change')}`, /added Bob as writer/);
  });
  for (const [who, tab, root, invited] of [[bob, B, roots.bob, /^writer$/], [carol, C, roots.carol, /^reader$/]] as const) {
    await step(`${who.name} accepting`, async () => {
      const invitation = await tab.see(sel('invitation', 'folder', folderId), new RegExp(`Alice invites you to Trip as ${invited.source.slice(1, -1)}`));
      await invitation.locator(sel('invitation-root')).fill(root);
      if (who === bob) await B.shot('invitation');
      await invitation.locator(sel('invitation-accept')).click();
      await tab.see(sel('folder-title'), /^Trip$/);
      await tab.gone(sel('invitation', 'folder', folderId));
      expect(await tab.panel.locator(sel('folder-role')).textContent()).toMatch(invited);
    });
  }
  await step('the sample files reaching Bob and Carol', () =>
    until(() => [roots.bob, roots.carol].every((r) => Object.entries(SAMPLES).every(([p, t]) => read(r, p) === t)), 'the sample files on Bob’s and Carol’s disks'),
  );
  // Both joined: the service says so, and Alice's members list shows them online and active.
  await step('Bob and Carol active in Alice’s members list', async () => {
    await until(async () => (await alice.api.get<{ state: string }[]>(`/api/folders/${folderId}/members`)).every((m) => m.state === 'active'), 'every member active in Alice’s service');
    // The service sends no 'members' event when a member turns active (see the report), so the
    // open list still says "invited": opening the tab again fetches it.
    await A.panel.locator(sel('tab-files')).click();
    await A.panel.locator(sel('tab-members')).click();
    for (const who of [bob, carol]) await A.see(`${sel('member-row', 'fingerprint', who.fingerprint)}[data-state="active"] ${sel('member-online', 'online', 'true')}`);
  });

  // 3. A file Bob writes on his disk shows in Alice's file list, by Bob, and lands on Alice's disk.
  await step('Bob’s file reaching Alice', async () => {
    write(roots.bob, 'docs/from-bob.txt', 'Bob booked the hall.\n');
    await until(() => read(roots.alice, 'docs/from-bob.txt') === 'Bob booked the hall.\n', 'docs/from-bob.txt on Alice’s disk').catch(async (e) => {
      const list = await bob.api.get(`/api/folders/${folderId}/files?dir=docs`).catch((x: Error) => x.message);
      throw new Error(`${(e as Error).message}; Bob's service lists docs/ as ${JSON.stringify(list)}`);
    });
    await A.panel.locator(sel('tab-files')).click();
    await A.panel.locator(`${sel('file-row', 'path', 'docs')} ${sel('open-dir')}`).click();
    const row = await A.see(sel('file-row', 'path', 'docs/from-bob.txt'));
    await A.see(`${sel('file-row', 'path', 'docs/from-bob.txt')} ${sel('file-author')}`, /^Bob$/);
    expect(await row.locator(sel('file-size')).textContent()).toBe('21 B');
    await until(() => read(roots.alice, 'docs/from-bob.txt') === 'Bob booked the hall.\n', 'docs/from-bob.txt on Alice’s disk');
    await until(() => read(roots.carol, 'docs/from-bob.txt') === 'Bob booked the hall.\n', 'docs/from-bob.txt on Carol’s disk');
    await A.see(`${sel('file-row', 'path', 'docs/from-bob.txt')} ${sel('file-state', 'state', 'synced')}`);
    await A.shot('files');
    // Bob and Alice have exchanged changes: the members list says Bob is in sync, live.
    await A.panel.locator(sel('tab-members')).click();
    await A.see(`${sel('member-row', 'fingerprint', bob.fingerprint)} ${sel('member-state')}`, /^in sync$/);
    await A.shot('members');
  });

  // 4. Alice narrows Bob to docs/ (members tab). What he wrote before stays; his next write outside
  //    docs/ stays on his node as a copy; inside docs/ it reaches Alice.
  await step('Alice narrowing Bob to docs/', async () => {
    write(roots.bob, 'bob-notes.txt', 'written while Bob could write everywhere\n');
    await until(() => read(roots.alice, 'bob-notes.txt') === 'written while Bob could write everywhere\n', 'bob-notes.txt on Alice’s disk');
    await A.panel.locator(sel('tab-members')).click();
    const bobRow = sel('member-row', 'fingerprint', bob.fingerprint);
    await A.panel.locator(`${bobRow} ${sel('member-narrow')}`).click();
    await A.panel.locator(`${bobRow} ${sel('member-narrow-input')}`).fill('docs/');
    await A.panel.locator(`${bobRow} ${sel('member-narrow-save')}`).click();
    await A.see(`${bobRow} ${sel('member-prefixes')}`, /^docs\/?$/);
    await A.see(`${sel('manifest-history')} ${sel('manifest-change')}`, /narrowed Bob to docs/);
    await B.see(sel('folder-role'), /^writer \(only docs\/?\)$/);
  });
  // 4. Bob is narrowed to docs/: his write outside docs/ stays on his node as a copy; inside docs/ it reaches Alice.
  await step('Bob writing outside and inside docs/', async () => {
    write(roots.bob, 'outside.txt', 'not in docs\n');
    await until(() => conflictCopies(roots.bob, 'outside').length === 1 && read(roots.bob, 'outside.txt') === undefined, 'Bob’s refused write kept aside as a copy');
    expect(read(roots.bob, conflictCopies(roots.bob, 'outside')[0])).toBe('not in docs\n');
    // Bob's panel says why, and where his version went.
    await B.see(sel('banner-text'), new RegExp(`outside\\.txt.*not shared.*only under docs.*kept here only, as ${conflictCopies(roots.bob, 'outside')[0].replace(/\./g, '\\.')}`));
    write(roots.bob, 'docs/inside.md', 'inside docs\n');
    await until(() => read(roots.alice, 'docs/inside.md') === 'inside docs\n', 'docs/inside.md on Alice’s disk');
    await until(() => read(roots.carol, 'docs/inside.md') === 'inside docs\n', 'docs/inside.md on Carol’s disk');
    // Written before inside.md, and refused: neither the file nor its copy went anywhere.
    for (const r of [roots.alice, roots.carol]) expect(listFiles(r).filter((p) => p.startsWith('outside'))).toEqual([]);
    // What Bob wrote before he was narrowed stays valid everywhere.
    expect(read(roots.alice, 'bob-notes.txt')).toBe('written while Bob could write everywhere\n');
    await A.panel.locator(sel('tab-files')).click();
    await A.see(sel('file-row', 'path', 'README.txt'));
    expect(await A.panel.locator(sel('file-row', 'path', 'outside.txt')).count()).toBe(0);
  });
  // A grant that grows is a plain manifest edit: Alice lets Bob write under photos/ too, and his next write there arrives.
  await step('Alice widening Bob’s grant to docs/ and photos/', async () => {
    await A.panel.locator(sel('tab-members')).click();
    const bobRow = sel('member-row', 'fingerprint', bob.fingerprint);
    await A.panel.locator(`${bobRow} ${sel('member-narrow')}`).click();
    await A.panel.locator(`${bobRow} ${sel('member-narrow-input')}`).fill('docs/, photos/');
    await A.panel.locator(`${bobRow} ${sel('member-narrow-save')}`).click();
    await A.see(`${bobRow} ${sel('member-prefixes')}`, /^docs\/?, photos\/?$/);
    await B.see(sel('folder-role'), /^writer \(only docs\/?, photos\/?\)$/);
    write(roots.bob, 'photos/hall.txt', 'a photo of the hall\n');
    await until(() => read(roots.alice, 'photos/hall.txt') === 'a photo of the hall\n', 'photos/hall.txt on Alice’s disk');
  });

  // 5. Alice and Bob edit the same file at once: a conflict, resolved from Alice's panel by keeping Bob's version.
  const aliceText = '# Plan\n\n- pick a date: 12 June\n- book the hall\n';
  const bobText = '# Plan\n\n- pick a date\n- book the hall (done, Bob)\n- order food\n';
  await step('a conflict on docs/plan.md', async () => {
    write(roots.alice, 'docs/plan.md', aliceText);
    write(roots.bob, 'docs/plan.md', bobText);
    await A.see(sel('conflict-count'), /^1$/);
    await A.panel.locator(sel('tab-conflicts')).click();
    const card = await A.see(sel('conflict', 'path', 'docs/plan.md'));
    const versions = await card.locator(sel('conflict-version')).allTextContents();
    expect(versions).toHaveLength(2);
    expect(versions).toEqual(expect.arrayContaining([expect.stringMatching(/^Alice/), expect.stringMatching(/^Bob/)]));
    // Text files show a line diff between the two versions.
    expect(await card.locator(sel('conflict-diff')).first().textContent()).toMatch(/^[+-] - order food$/m);
    await A.shot('conflicts');
    // Both versions stand on every disk meanwhile: one at the path, the other as a conflict copy.
    await until(() => [roots.alice, roots.bob, roots.carol].every((r) => conflictCopies(r, 'docs/plan').length === 1), 'the conflict copy on every disk');
    await card.locator(sel('conflict-version')).filter({ hasText: /^Bob/ }).locator(sel('conflict-keep')).click();
    await A.see(sel('no-conflicts'));
    await A.gone(sel('conflict-count'));
  });
  await step('every node ending with Bob’s version', () =>
    until(
      () => [roots.alice, roots.bob, roots.carol].every((r) => read(r, 'docs/plan.md') === bobText && conflictCopies(r, 'docs/plan').length === 0),
      'docs/plan.md = Bob’s version, and no conflict copy, on every disk',
    ),
  );

  // 6. Bob deletes a file on his disk; Alice brings it back from her History tab (her node kept the
  // version it replaced), and it returns on every disk. (A node keeps versions that remote changes
  // replace; a file its own user deleted is not in its own "Recently deleted": see the report.)
  await step('restoring a deleted file', async () => {
    const gone = 'docs/budget.csv';
    fs.rmSync(path.join(roots.bob, gone));
    await until(() => read(roots.alice, gone) === undefined && read(roots.carol, gone) === undefined, `${gone} deleted on Alice’s and Carol’s disks`);
    await A.panel.locator(sel('tab-history')).click();
    const row = await A.see(sel('deleted-row', 'path', gone));
    await A.see(sel('activity-item'), /Bob deleted docs\/budget\.csv/);
    await A.shot('history');
    await row.locator(sel('deleted-restore')).click();
    await A.see(sel('restored'), /Restored docs\/budget\.csv/);
    await A.gone(sel('deleted-row', 'path', gone));
    await until(() => [roots.alice, roots.bob, roots.carol].every((r) => read(r, gone) === SAMPLES[gone]), `${gone} back on every disk`);
  });

  // 7. Chat in the folder's room: Bob writes, Alice and Carol read it in their panels; Alice answers.
  await step('chat in the folder’s room', async () => {
    for (const t of [A, B, C]) await t.panel.locator(sel('tab-chat')).click();
    await B.panel.locator(sel('chat-input')).fill('Hall booked, plan updated');
    await B.panel.locator(sel('chat-send')).click();
    await B.see(sel('chat-line'), /Hall booked, plan updated/);
    await A.see(sel('chat-line'), /Bob.*Hall booked, plan updated/s);
    await C.see(sel('chat-line'), /Bob.*Hall booked, plan updated/s);
    await A.panel.locator(sel('chat-input')).fill('Thanks Bob!');
    await A.panel.locator(sel('chat-send')).click();
    await B.see(sel('chat-line'), /Alice.*Thanks Bob!/s);
    await A.shot('chat');
  });

  // Every panel says the folder is up to date.
  await step('every panel saying in sync', async () => {
    for (const t of [A, B, C]) await t.see(sel('folder-header-status', 'state', 'in-sync'));
  });
  // Every node's folder ends with the same files (Bob also keeps his refused copy, on his node only).
  const aliceFiles = listFiles(roots.alice);
  expect(listFiles(roots.carol)).toEqual(aliceFiles);
  expect(listFiles(roots.bob)).toEqual([...aliceFiles, ...conflictCopies(roots.bob, 'outside')].sort());
  expect(aliceFiles).toEqual(['README.txt', 'bob-notes.txt', 'docs/budget.csv', 'docs/from-bob.txt', 'docs/inside.md', 'docs/plan.md', 'photos/hall.txt']);
  // The pages ran clean (the devhost's own CSP warns about [::1] sources Chromium ignores: the host page's, not the panel's).
  for (const t of [A, B, C]) expect(t.opened.errors.filter((e) => !e.includes('[::1]'))).toEqual([]);
});

test('the API over real HTTP refuses a missing or wrong token (401) and a reader inviting (403 NOT_ADMIN), saying why', async () => {
  const api = alice.api;
  for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer not-the-token' }, { authorization: 'Basic whatever' }]) {
    const res = await fetch(new URL('api/folders', api.url), { headers });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(body.error.message).toMatch(/token/i);
  }
  // The event socket too: its upgrade is refused with the same 401.
  expect(await upgradeStatus(new URL('api/events', api.url))).toBe(401);
  expect(await upgradeStatus(new URL('api/events?t=not-the-token', api.url))).toBe(401);

  // Carol, a reader of a folder of Alice's, may not invite.
  const root = path.join(alice.dir, 'Api');
  write(root, 'a.txt', 'a\n');
  const folder = await api.post<{ id: string }>('/api/folders', { name: 'Api', root });
  await api.post(`/api/folders/${folder.id}/members`, { kind: 'invite', fingerprint: carol.fingerprint, role: 'reader' });
  await until(async () => (await carol.api.get<{ folder: string }[]>('/api/invitations')).some((i) => i.folder === folder.id), 'Carol receiving the invitation');
  await carol.api.post(`/api/invitations/${folder.id}/accept`, { root: path.join(carol.dir, 'Api') });
  const refused = await carol.api.post(`/api/folders/${folder.id}/members`, { kind: 'invite', fingerprint: bob.fingerprint, role: 'writer' }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(PanelApiError);
  expect(refused).toMatchObject({ status: 403, code: 'NOT_ADMIN' });
  expect((refused as Error).message).toMatch(/admin/);
  // Nor restore (a write): 403 NOT_A_WRITER; and Bob was not invited.
  await until(() => read(path.join(carol.dir, 'Api'), 'a.txt') === 'a\n', 'a.txt on Carol’s disk');
  const restore = await carol.api.post(`/api/folders/${folder.id}/restore`, { path: 'a.txt', version: 'current' }).catch((e: unknown) => e);
  expect(restore).toMatchObject({ status: 403, code: 'NOT_A_WRITER' });
  const members = await api.get<{ fingerprint: string }[]>(`/api/folders/${folder.id}/members`);
  expect(members.map((m) => m.fingerprint)).not.toContain(bob.fingerprint);
});
