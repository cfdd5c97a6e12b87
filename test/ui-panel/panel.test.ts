/**
 * The panel in real Chromium against the real panel server, with the in-memory folder service.
 * The narrow-frame screenshot goes to docs/screenshots/ when KINFOLDER_SCREENSHOTS=1 (the main views' come from the end-to-end test against real nodes).
 */
import type { Browser, Page } from 'playwright-core';
import { startPanelServer, type PanelServer } from '../../plugin/src/panel';
import { launchBrowser, openPage, screenshot, type OpenedPage } from '../helpers/browser';
import { BOB, CAROL, DAVE, FakeFolderService } from '../plugin/panel/fake-service';

const TOKEN = 'ui-test-token-abcdefghijklmnop';
let browser: Browser;
let service: FakeFolderService;
let panel: PanelServer;
let opened: OpenedPage | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  service = FakeFolderService.seeded();
  panel = await startPanelServer({ service });
  panel.setToken(TOKEN);
});

afterEach(async () => {
  const errors = opened?.errors ?? [];
  await opened?.close();
  opened = undefined;
  await panel.close();
  // Every test also checks that the page ran without a script error.
  expect(errors).toEqual([]);
});

const sel = (testid: string, extra = '') => `[data-testid="${testid}"]${extra}`;

async function open(hash = `#token=${TOKEN}`, viewport?: { width: number; height: number }): Promise<Page> {
  opened = await openPage(panel.url + hash, { browser, viewport });
  await opened.page.locator(sel('connection', '[data-state="live"]')).waitFor();
  return opened.page;
}

/** Waits until the element's text matches (the page updates by itself; no reloads). */
async function waitText(page: Page, selector: string, re: RegExp): Promise<string> {
  const handle = await page.waitForFunction(
    ([s, src, flags]) => {
      const t = document.querySelector(s)?.textContent ?? '';
      return new RegExp(src, flags).test(t) ? t : false;
    },
    [selector, re.source, re.flags] as const,
  );
  return (await handle.jsonValue()) as string;
}

const row = (testid: string, attr: string, value: string) => sel(testid, `[data-${attr}="${value}"]`);

describe('ui-panel in Chromium', () => {
  it('renders the folder list with live status, the invitation, and each tab of a folder', async () => {
    const page = await open();
    await page.locator(sel('folder-item')).nth(1).waitFor();
    expect(await page.locator(sel('folder-name')).allTextContents()).toEqual(['Holiday photos', 'Recipes']);
    expect(await page.locator(sel('folder-status')).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state))).toEqual(['transferring', 'in-sync']);
    expect(await page.textContent(row('folder-item', 'folder', 'f-photos'))).toMatch(/2\.4 MB\/s · 3 files, 48 MB left/);
    expect(await page.locator(`${row('folder-item', 'folder', 'f-photos')} ${sel('rate-graph')} polyline`).count()).toBe(1);
    expect(await page.textContent(sel('folder-conflicts'))).toBe('1 conflict');
    expect(await page.textContent(sel('invitation'))).toMatch(/Dave invites you to Band rehearsals as writer/);

    // Files: state, size, author, progress of a pending file.
    await page.locator(row('file-row', 'path', 'sunset.jpg')).waitFor();
    expect(await page.getAttribute(`${row('file-row', 'path', 'sunset.jpg')} ${sel('file-state')}`, 'data-state')).toBe('pending');
    expect(await page.getAttribute(`${row('file-row', 'path', 'sunset.jpg')} ${sel('file-progress')}`, 'value')).toBe('2000000');
    expect(await page.textContent(`${row('file-row', 'path', 'beach.jpg')} ${sel('file-size')}`)).toBe('3.4 MB');
    expect(await page.textContent(`${row('file-row', 'path', 'sunset.jpg')} ${sel('file-author')}`)).toBe('Bob');
    // The transfer moves on: the list is redrawn in place, the rows (known by their path) and their buttons kept.
    const openDocs = `${row('file-row', 'path', 'docs')} ${sel('open-dir')}`;
    await page.evaluate((s) => ((document.querySelector(s) as HTMLElement & { mark?: string }).mark = 'kept'), openDocs);
    service.setProgress('f-photos', 'sunset.jpg', 3_000_000);
    await page.waitForFunction((s) => document.querySelector(s)?.getAttribute('value') === '3000000', `${row('file-row', 'path', 'sunset.jpg')} ${sel('file-progress')}`);
    expect(await page.evaluate((s) => (document.querySelector(s) as (HTMLElement & { mark?: string }) | null)?.mark, openDocs)).toBe('kept');
    await page.click(openDocs);
    await page.locator(row('file-row', 'path', 'docs/notes.md')).waitFor();
    expect(await page.textContent(`${row('file-row', 'path', 'docs/notes.md')} ${sel('file-open-by')}`)).toMatch(/open by Bob/);
    expect(await page.locator(sel('crumb')).allTextContents()).toEqual(['Holiday photos', 'docs']);

    await page.click(sel('tab-members'));
    await page.locator(sel('member-row')).nth(2).waitFor();
    expect(await page.locator(sel('member-name')).allTextContents()).toEqual(['Alice', 'Bob', 'Carol']);
    expect(await page.textContent(`${row('member-row', 'fingerprint', BOB.fingerprint)} ${sel('member-prefixes')}`)).toBe('docs/');
    expect(await page.getAttribute(`${row('member-row', 'fingerprint', CAROL.fingerprint)} ${sel('member-online')}`, 'data-online')).toBe('false');
    await page.locator(sel('manifest-change')).nth(1).waitFor();

    await page.click(sel('tab-history'));
    await page.locator(sel('activity-item')).nth(2).waitFor();
    await page.locator(sel('deleted-row')).waitFor();
    // A new change comes first in the feed; the items already shown move down as they are (a click on one still lands).
    const e3 = row('activity-item', 'entry', 'e3');
    await page.evaluate((s) => ((document.querySelector(s) as HTMLElement & { mark?: string }).mark = 'kept'), e3);
    service.events.next({ type: 'activity', folder: 'f-photos', items: [{ entry: 'e4', author: BOB.fingerprint, authorName: BOB.name, op: 'put', path: 'dawn.jpg', atMs: Date.now() }] });
    await page.waitForFunction(() => (document.querySelector('[data-testid="activity-item"]') as HTMLElement | null)?.dataset.entry === 'e4');
    expect(await page.locator(sel('activity-item')).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.entry))).toEqual(['e4', 'e3', 'e2', 'e1']);
    expect(await page.evaluate((s) => (document.querySelector(s) as (HTMLElement & { mark?: string }) | null)?.mark, e3)).toBe('kept');

    await page.click(sel('tab-conflicts'));
    await page.locator(sel('conflict-diff')).waitFor();

    await page.click(sel('tab-chat'));
    await waitText(page, sel('chat-log'), /Uploaded the sunset pictures!/);

    // A reader's folder: the same lists, read-only.
    await page.click(row('folder-item', 'folder', 'f-recipes'));
    await page.click(sel('tab-members'));
    await waitText(page, sel('members-readonly'), /Only admins change who is in this folder. You are a reader/);
    expect(await page.locator(sel('member-role')).count()).toBe(0);
  });

  it('creates a folder from a name and a path, and shows the service\'s refusal as it gives it', async () => {
    const page = await open();
    await page.click(sel('add-folder'));
    await page.fill(sel('create-name'), 'Taxes');
    await page.fill(sel('create-root'), 'relative/path');
    await page.click(sel('create-submit'));
    expect(await waitText(page, sel('create-error'), /absolute/)).toBe("the folder's path must be absolute: relative/path");
    await page.fill(sel('create-root'), '/home/alice/Taxes');
    await page.click(sel('create-submit'));
    await waitText(page, sel('folder-title'), /^Taxes$/);
    expect(await page.isHidden(sel('create-folder-form'))).toBe(true);
    expect(await page.locator(sel('folder-name')).allTextContents()).toContain('Taxes');
    expect(await page.textContent(sel('folder-root'))).toBe('/home/alice/Taxes');
    await page.locator(sel('no-files')).waitFor();
    expect(service.calls.filter((c) => c.method === 'createFolder').map((c) => c.args[0])).toEqual([
      { name: 'Taxes', root: 'relative/path' },
      { name: 'Taxes', root: '/home/alice/Taxes' },
    ]);
  });

  it('accepts an invitation into a chosen path, and declines another', async () => {
    service.invites.push({ folder: 'f-spam', name: 'Spam', from: { ...CAROL }, role: 'reader', members: 2, receivedAtMs: Date.now() });
    const page = await open();
    await page.locator(row('invitation', 'folder', 'f-music')).waitFor();
    await page.fill(`${row('invitation', 'folder', 'f-music')} ${sel('invitation-root')}`, '/data/music');
    // Another invitation arrives while typing: the list redraws, what was typed stays.
    service.invites.push({ folder: 'f-late', name: 'Late', from: { ...BOB }, role: 'reader', members: 2, receivedAtMs: Date.now() });
    service.events.next({ type: 'invitations' });
    await page.locator(row('invitation', 'folder', 'f-late')).waitFor();
    expect(await page.inputValue(`${row('invitation', 'folder', 'f-music')} ${sel('invitation-root')}`)).toBe('/data/music');
    await page.click(`${row('invitation', 'folder', 'f-music')} ${sel('invitation-accept')}`);
    await waitText(page, sel('folder-title'), /^Band rehearsals$/);
    expect(await page.getAttribute(sel('folder-header-status'), 'data-state')).toBe('behind');
    expect(await page.locator(row('invitation', 'folder', 'f-music')).count()).toBe(0);
    await page.click(`${row('invitation', 'folder', 'f-spam')} ${sel('invitation-decline')}`);
    await page.locator(row('invitation', 'folder', 'f-spam')).waitFor({ state: 'detached' });
    expect(await page.locator(sel('invitation')).count()).toBe(1);
    expect(service.calls.filter((c) => c.method === 'acceptInvitation' || c.method === 'declineInvitation').map((c) => [c.method, ...c.args]))
      .toEqual([['acceptInvitation', 'f-music', '/data/music'], ['declineInvitation', 'f-spam']]);
  });

  it('invites a friend with a role and path prefixes, narrows a writer, and shows a refused change', async () => {
    const page = await open('#token=' + TOKEN + '&tab=members');
    await page.locator(sel('invite-form')).waitFor();
    await page.selectOption(sel('invite-friend'), DAVE.fingerprint);
    await page.selectOption(sel('invite-role'), 'writer');
    await page.fill(sel('invite-prefixes'), 'docs/, music/');
    await page.click(sel('invite-submit'));
    const dave = row('member-row', 'fingerprint', DAVE.fingerprint);
    await page.locator(dave).waitFor();
    expect(await page.getAttribute(dave, 'data-state')).toBe('invited');
    expect(await page.textContent(`${dave} ${sel('member-prefixes')}`)).toBe('docs/, music/');
    await waitText(page, sel('manifest-history'), /added Dave as writer/);

    const bob = row('member-row', 'fingerprint', BOB.fingerprint);
    await page.click(`${bob} ${sel('member-narrow')}`);
    await page.fill(`${bob} ${sel('member-narrow-input')}`, 'docs/2026/');
    await page.click(`${bob} ${sel('member-narrow-save')}`);
    await waitText(page, `${bob} ${sel('member-prefixes')}`, /^docs\/2026\/$/);

    // Alice is the only admin: making herself a writer is refused, and the page says why.
    await page.selectOption(`${row('member-row', 'fingerprint', service.store.get('f-photos')!.members[0].fingerprint)} ${sel('member-role')}`, 'writer');
    expect(await waitText(page, sel('members-error'), /admin/)).toBe('the folder would be left without an admin');
    expect(await page.getAttribute(sel('members-error', ' [data-code]'), 'data-code')).toBe('LAST_ADMIN');
    expect(service.calls.filter((c) => c.method === 'editMember').map((c) => c.args[1])).toEqual([
      { kind: 'invite', fingerprint: DAVE.fingerprint, role: 'writer', pathPrefixes: ['docs/', 'music/'] },
      { kind: 'narrow', fingerprint: BOB.fingerprint, pathPrefixes: ['docs/2026/'] },
      { kind: 'role', fingerprint: service.store.get('f-photos')!.members[0].fingerprint, role: 'writer' },
    ]);
  });

  it('removes a member after a second click, and leaves a folder (refused for the last admin, with the reason)', async () => {
    const page = await open('#token=' + TOKEN + '&tab=members');
    const carol = row('member-row', 'fingerprint', CAROL.fingerprint);
    await page.click(`${carol} ${sel('member-remove')}`);
    expect(await page.textContent(`${carol} ${sel('member-remove')}`)).toBe('Remove Carol?');
    expect(service.calls.some((c) => c.method === 'editMember')).toBe(false);
    await page.click(`${carol} ${sel('member-remove')}`);
    await page.locator(carol).waitFor({ state: 'detached' });

    await page.click(sel('leave-folder'));
    await page.click(sel('leave-confirm-yes'));
    expect(await waitText(page, `${sel('leave-confirm')} ${sel('action-error')}`, /last admin/)).toMatch(/make another member admin/);
    // A status event redraws the header; the confirmation and its message stay.
    service.setStatus('f-photos', { rateBytesPerS: 5000 });
    await waitText(page, sel('folder-state-detail'), /5.0 KB\/s/);
    expect(await page.isVisible(sel('leave-confirm'))).toBe(true);
    await page.click(sel('leave-cancel'));

    await page.click(row('folder-item', 'folder', 'f-recipes'));
    await page.click(sel('leave-folder'));
    await page.click(sel('leave-confirm-yes'));
    await page.locator(row('folder-item', 'folder', 'f-recipes')).waitFor({ state: 'detached' });
    await waitText(page, sel('folder-title'), /^Holiday photos$/);
    expect(service.calls.filter((c) => c.method === 'leaveFolder').map((c) => c.args[0])).toEqual(['f-photos', 'f-recipes']);
  });

  it('shows a text conflict as a line diff and resolves it with keep both; the count goes away live', async () => {
    const page = await open();
    await waitText(page, sel('conflict-count'), /^1$/);
    await page.click(sel('tab-conflicts'));
    await page.locator(sel('conflict-diff')).waitFor();
    expect(await page.locator(sel('diff-del')).allTextContents()).toEqual(['- day 2: museum\n']);
    expect(await page.locator(sel('diff-add')).allTextContents()).toEqual(['+ day 2: old town\n', '+ day 4: rest\n']);
    expect(await page.locator(sel('conflict-version')).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.hash))).toEqual(['h-bob', 'h-alice']);
    await page.click(sel('conflict-keep-both'));
    await page.locator(sel('no-conflicts')).waitFor();
    await page.locator(sel('conflict-count')).waitFor({ state: 'detached' });
    await page.locator(sel('folder-conflicts')).waitFor({ state: 'detached' });
    expect(service.calls.find((c) => c.method === 'resolveConflict')?.args).toEqual(['f-photos', 'docs/plan.txt', { keepBoth: true }]);
  });

  it('keeps one version of a conflict, and says so when a peer settled it first', async () => {
    const page = await open('#token=' + TOKEN + '&tab=conflicts');
    await page.locator(sel('conflict-keep', '[data-hash="h-alice"]')).waitFor();
    // A peer settles it meanwhile: the service now answers CONFLICT_GONE.
    const f = service.store.get('f-photos')!;
    const saved = f.conflicts;
    f.conflicts = [];
    await page.click(sel('conflict-keep', '[data-hash="h-alice"]'));
    expect(await waitText(page, sel('conflicts-error'), /settled/)).toMatch(/the conflict at docs\/plan.txt was settled meanwhile/);
    f.conflicts = saved;
    await page.click(sel('tab-files'));
    await page.click(sel('tab-conflicts'));
    await page.click(sel('conflict-keep', '[data-hash="h-alice"]'));
    await page.locator(sel('no-conflicts')).waitFor();
    expect(service.calls.filter((c) => c.method === 'resolveConflict').map((c) => c.args[2])).toEqual([{ keep: 'h-alice' }, { keep: 'h-alice' }]);
  });

  it('restores a deleted file and an older version of a file from history', async () => {
    const page = await open();
    await page.click(sel('tab-history'));
    await page.click(`${row('deleted-row', 'path', 'old-draft.txt')} ${sel('deleted-restore')}`);
    await page.locator(sel('no-deleted')).waitFor();
    // The restore's activity item arrives over the WebSocket.
    await waitText(page, sel('activity-list'), /Alice changed old-draft\.txt/);

    await page.click(sel('tab-files'));
    await page.click(`${row('file-row', 'path', 'docs')} ${sel('open-dir')}`);
    await page.click(`${row('file-row', 'path', 'docs/notes.md')} ${sel('file-versions')}`);
    await page.locator(row('version-row', 'version', 'v-notes-1')).waitFor();
    expect(await page.inputValue(sel('versions-path'))).toBe('docs/notes.md');
    expect(await page.locator(`${row('version-row', 'version', 'current')} ${sel('version-restore')}`).count()).toBe(0);
    await page.click(`${row('version-row', 'version', 'v-notes-1')} ${sel('version-restore')}`);
    await waitText(page, sel('restored'), /Restored docs\/notes\.md/);
    expect(service.calls.filter((c) => c.method === 'restore').map((c) => c.args)).toEqual([
      ['f-photos', 'old-draft.txt', 'v-draft-1'],
      ['f-photos', 'docs/notes.md', 'v-notes-1'],
    ]);
  });

  it('sends chat, shows incoming lines live, and links a file into the chat', async () => {
    const page = await open();
    await page.click(sel('tab-chat'));
    await page.fill(sel('chat-input'), 'Looks great!');
    await page.click(sel('chat-send'));
    await waitText(page, sel('chat-log'), /Looks great!/);
    expect(await page.inputValue(sel('chat-input'))).toBe('');
    service.receiveChat('f-photos', BOB, 'Thanks :)');
    await waitText(page, sel('chat-log'), /Thanks :\)/);
    expect(await page.locator(sel('chat-line')).count()).toBe(3);

    // An incoming line for another folder: an unread count there, not a line here.
    service.receiveChat('f-recipes', BOB, 'new soup');
    await waitText(page, `${row('folder-item', 'folder', 'f-recipes')} ${sel('folder-unread')}`, /1 new/);
    expect(await page.locator(sel('chat-line')).count()).toBe(3);

    await page.click(sel('tab-files'));
    await page.click(`${row('file-row', 'path', 'beach.jpg')} ${sel('file-link-chat')}`);
    await waitText(page, sel('chat-log'), /📎 beach\.jpg/);
    await page.click(sel('chat-file-link'));
    await page.locator(row('file-row', 'path', 'beach.jpg')).waitFor();
    expect(service.calls.filter((c) => c.method === 'sendChat').map((c) => c.args[1])).toEqual(['Looks great!', '📎 beach.jpg']);
  });

  it('follows status events live, shows problems, and says when the live connection is lost', async () => {
    const page = await open();
    await page.locator(row('folder-item', 'folder', 'f-recipes')).waitFor();
    // The buttons a person may be pressing when a status event comes: marked, to see they are the same elements after.
    const buttons = [row('folder-item', 'folder', 'f-recipes'), sel('tab-members'), sel('leave-folder')];
    await page.evaluate((ss) => ss.forEach((s) => ((document.querySelector(s) as HTMLElement & { mark?: string }).mark = 'kept')), buttons);
    service.setStatus('f-recipes', { state: 'offline' });
    await waitText(page, `${row('folder-item', 'folder', 'f-recipes')} ${sel('folder-status')}`, /^Offline$/);
    service.setStatus('f-photos', { state: 'scanning', scan: { done: 40, total: 100 } });
    await waitText(page, sel('folder-header-status'), /^Scanning$/);
    expect(await page.getAttribute(sel('header-scan-progress'), 'value')).toBe('40');
    // Redrawn in place: a click pressed on the old button is released on the same one.
    expect(await page.evaluate((ss) => ss.map((s) => (document.querySelector(s) as (HTMLElement & { mark?: string }) | null)?.mark), buttons)).toEqual(['kept', 'kept', 'kept']);
    await page.locator(sel('tab-members')).click();
    await page.locator(sel('view-members')).waitFor();
    service.events.next({ type: 'problem', folder: 'f-photos', code: 'FORK', message: 'Bob\'s feed forked: his later changes are held back' });
    await waitText(page, sel('banner-text'), /feed forked.*\(Holiday photos\)/);
    await panel.close();
    await page.locator(sel('connection', '[data-state="offline"]')).waitFor();
  });

  it('says a folder is checking, not up to date, until each online peer has said what it has, with what is known missing as a lower bound', async () => {
    const page = await open('#token=' + TOKEN + '&tab=members');
    const bob = `${row('member-row', 'fingerprint', BOB.fingerprint)} ${sel('member-state')}`;
    await page.locator(bob).waitFor();
    // Restarted: Bob is online but has not said what he has; the vector he said before shows 4 changes this node lacks.
    service.setStatus('f-photos', { state: 'checking', behindEntries: 4, behindEntriesLastKnown: true, peers: [{ ...BOB, online: true, state: 'checking', theyLackEntries: 0, weLackEntries: 4, vector: 'last-known', openPaths: [] }] });
    await waitText(page, sel('folder-header-status'), /^Checking$/);
    expect(await page.getAttribute(sel('folder-header-status'), 'data-state')).toBe('checking');
    expect(await page.textContent(sel('folder-state-detail'))).toBe('waiting for Bob to say what they have · at least 4 changes to receive · 1/1 peers online');
    await waitText(page, bob, /^checking \(has at least 4 more changes\)$/);
    // Bob's vector arrives: the count is no longer "at least".
    service.setStatus('f-photos', { state: 'behind', behindEntries: 4, behindEntriesLastKnown: false, behindFiles: 0, behindBytes: 0, peers: [{ ...BOB, online: true, state: 'ahead', theyLackEntries: 0, weLackEntries: 4, vector: 'fresh', openPaths: [] }] });
    await waitText(page, sel('folder-state-detail'), /^4 changes to receive · 0 files, 0 B to fetch/);
    await waitText(page, bob, /^has more \(4 changes\)$/);
    // Bob goes away before this node got them: offline, and still short of them by what he said.
    service.setStatus('f-photos', { state: 'offline', behindEntriesLastKnown: true, peers: [{ ...BOB, online: false, state: 'offline', theyLackEntries: 0, weLackEntries: 4, vector: 'last-known', openPaths: [] }] });
    await waitText(page, sel('folder-state-detail'), /^no other member is online · at least 4 changes to receive$/);
    // Bob's host comes back without his Kinfolder: online, silent past the wait, and the folder says whom it waits for.
    service.setStatus('f-photos', { state: 'offline', behindEntriesLastKnown: true, peers: [{ ...BOB, online: true, state: 'no-answer', theyLackEntries: 0, weLackEntries: 4, vector: 'last-known', openPaths: [] }] });
    await waitText(page, sel('folder-state-detail'), /^Kinfolder does not answer on Bob · at least 4 changes to receive$/);
    await waitText(page, bob, /^online, Kinfolder not answering$/);
  });

  it('without a token says where to open it, and with a stale token says it is no longer valid', async () => {
    opened = await openPage(panel.url, { browser });
    await waitText(opened.page, sel('no-token'), /needs its access token/);
    await opened.close();
    opened = await openPage(`${panel.url}#token=stale-token`, { browser });
    // The page's own fetches answer 401: Chromium logs those; they are what this test provokes.
    await waitText(opened.page, sel('folders-error'), /no longer valid/);
    await waitText(opened.page, sel('banner-text'), /no longer valid/);
    expect(await opened.page.getAttribute(sel('connection'), 'data-state')).toBe('refused');
    expect(opened.failedResponses.join('\n')).toMatch(/status of 401/);
  });

  it('before the sidecar runs a folder service shows the host status, then the folders once one is set', async () => {
    await panel.close();
    panel = await startPanelServer({ status: async () => ({ self: { displayName: 'Alice', hostSoftware: 'devhost 0.1' }, peers: [{ online: true }, { online: false }] }) });
    panel.setToken(TOKEN);
    opened = await openPage(`${panel.url}#token=${TOKEN}`, { browser });
    const page = opened.page;
    await waitText(page, sel('host-status'), /Friends online: 1 of 2/);
    await page.locator(sel('connection', '[data-state="waiting"]')).waitFor();
    expect(await page.isVisible(sel('add-folder'))).toBe(false);
    panel.setService(service);
    // The event socket retries with backoff (up to 8 s); its `ready` refetches the folders.
    await page.locator(row('folder-item', 'folder', 'f-photos')).waitFor({ timeout: 20_000 });
    await page.locator(sel('connection', '[data-state="live"]')).waitFor();
    expect(await page.isVisible(sel('add-folder'))).toBe(true);
    expect(opened.failedResponses.join('\n')).toMatch(/status of 503/);
  });

  it('diffs lines as the conflict view needs (the page\'s own module, in the browser)', async () => {
    const page = await open();
    const ops = await page.evaluate(async () => {
      const { lineDiff } = await import('./js/diff.js' as string);
      const render = (a: string, b: string) => lineDiff(a, b).map((l: { op: string; line: string }) => l.op + l.line);
      return {
        same: render('a\nb\n', 'a\nb\n'),
        edit: render('a\nb\nc\n', 'a\nB\nc\nd\n'),
        empty: render('', 'x\n'),
        crlf: render('a\r\nb\r\n', 'a\nb\n'),
      };
    });
    expect(ops).toEqual({
      same: [' a', ' b'],
      edit: [' a', '-b', '+B', ' c', '+d'],
      empty: ['+x'],
      crlf: [' a', ' b'],
    });
  });

  it('fits a narrow iframe (phone width) without horizontal overflow of the page', async () => {
    const page = await open(`#token=${TOKEN}`, { width: 400, height: 800 });
    await page.locator(row('file-row', 'path', 'beach.jpg')).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'narrow');
  });
});
