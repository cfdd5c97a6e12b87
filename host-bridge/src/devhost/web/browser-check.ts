/**
 * Drives the real page in headless Chromium (Debian's `chromium`) over the DevTools protocol, with
 * the preview's made-up backend, and checks what a person would do: read the certificate, fail and
 * then succeed to add a friend, chat, see live messages, unread badges, presence, panels coming and
 * going. Not a jest test because Chromium is not on every machine; run it by hand:
 *
 *   npx tsx host-bridge/src/devhost/web/browser-check.ts [--shots <dir>]
 *
 * Prints one line per check and "N passed, N failed"; exits 1 on any failure.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subject } from 'rxjs';
import { WebSocket } from 'ws';
import type { HostChatMessage, HostPanel, HostPeerEvent } from '../../adapter';
import { startDevhostWeb } from './index';
import { demoBackend } from './preview';

const BRUNO = 'B0B0B0B0C1C2C3C4D5D6D7D8E9E0F1F2A3A4B5B6';
const CHIARA = 'C4C4A1A1B2B2C3C3D4D4E5E5F6F60707A8A8B9B9';

/** The few DevTools calls this check needs: evaluate, screenshot. */
class Page {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>(); // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly problems: string[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      const waiter = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (waiter) {
        this.pending.delete(msg.id);
        if (msg.error) waiter.reject(new Error(msg.error.message));
        else waiter.resolve(msg.result);
      } else if (msg.method === 'Runtime.exceptionThrown') {
        this.problems.push(msg.params.exceptionDetails?.exception?.description ?? 'exception');
      } else if (msg.method === 'Runtime.consoleAPICalled' && msg.params.type === 'error') {
        this.problems.push(msg.params.args.map((a: { value?: unknown; description?: string }) => a.value ?? a.description).join(' '));
      }
    });
  }

  static async attach(debuggerUrl: string): Promise<Page> {
    const ws = new WebSocket(debuggerUrl);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const page = new Page(ws);
    await page.send('Runtime.enable');
    return page;
  }

  send(method: string, params: object = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value as T;
  }

  /** Polls `expression` until it is truthy; the page updates asynchronously (fetch, WebSocket). */
  async until(expression: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.eval<boolean>(`!!(${expression})`))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async screenshot(path: string): Promise<void> {
    const r = await this.send('Page.captureScreenshot', { format: 'png' });
    await writeFile(path, Buffer.from(r.data, 'base64'));
  }

  close(): void {
    this.ws.close();
  }
}

interface DevtoolsTarget {
  type: string;
  url: string;
  webSocketDebuggerUrl: string;
}

async function launchChromium(url: string, profile: string) {
  const proc = spawn(
    'chromium',
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`,
      '--remote-debugging-port=0', '--window-size=1280,800', url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const browserWs = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 30_000);
    proc.once('error', reject);
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const port = new URL(browserWs).port;
  let target: DevtoolsTarget | undefined;
  for (let i = 0; i < 100 && !target; i++) {
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as DevtoolsTarget[];
    target = list.find((t) => t.type === 'page' && t.url.startsWith(url.split('?')[0]));
    if (!target) await new Promise((r) => setTimeout(r, 100));
  }
  if (!target) throw new Error('chromium opened no page');
  return { proc, page: await Page.attach(target.webSocketDebuggerUrl) };
}

async function main(): Promise<void> {
  const shotsIdx = process.argv.indexOf('--shots');
  const shots = shotsIdx >= 0 ? process.argv[shotsIdx + 1] : undefined;
  const backend = demoBackend('http://127.0.0.1:9/panel');
  const chat = backend.chatMessages as Subject<HostChatMessage>;
  const peers = backend.peerEvents as Subject<HostPeerEvent>;
  const panels = backend.panelEvents as Subject<HostPanel[]>;
  const controller = new AbortController();
  const web = await startDevhostWeb({ backend, signal: controller.signal });
  const profile = await mkdtemp(join(tmpdir(), 'devhost-browser-check-'));
  const { proc, page } = await launchChromium(web.url, profile);

  let passed = 0;
  let failed = 0;
  const check = async (name: string, body: () => Promise<void>) => {
    try {
      await body();
      passed++;
      console.log(`ok   ${name}`);
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (shots) await page.screenshot(join(shots, `${String(passed + failed).padStart(2, '0')}.png`));
  };
  const text = (sel: string) => page.eval<string>(`document.querySelector(${JSON.stringify(sel)})?.textContent ?? ''`);

  try {
    await check('lists friends with presence and rooms', async () => {
      await page.until(`document.querySelectorAll('#friends li').length === 2`);
      await page.until(`document.querySelector('#friends button[aria-label="Bruno, online"]')`);
      await page.until(`document.querySelector('#friends button[aria-label="Chiara, offline"]')`);
      await page.until(`document.querySelector('#rooms button[aria-label="Room Family photos"]')`);
      if ((await text('#me-name')) !== 'Ana') throw new Error('own name missing');
    });

    await check('shows my certificate in a dialog', async () => {
      await page.eval(`document.getElementById('btn-cert').click()`);
      await page.until(`document.getElementById('dlg-cert').open && document.getElementById('cert-text').value.includes('BEGIN KINFOLDER')`);
      await page.eval(`document.getElementById('btn-cert-close').click()`);
    });

    await check('shows why a pasted certificate was refused', async () => {
      await page.eval(`document.getElementById('btn-add').click(); document.getElementById('add-text').value = 'not a certificate'; document.getElementById('add-form').requestSubmit()`);
      await page.until(`document.getElementById('add-error').textContent.includes('not a devhost certificate')`);
      await page.until(`document.getElementById('dlg-add').open`);
    });

    await check('adds a friend and opens the conversation', async () => {
      await page.eval(`document.getElementById('add-text').value = 'name: Dario\\nfingerprint: ${'D0'.repeat(20)}'; document.getElementById('add-form').requestSubmit()`);
      await page.until(`!document.getElementById('dlg-add').open && document.getElementById('chat-title').textContent === 'Dario'`);
      await page.until(`!document.getElementById('messages-empty').hidden`);
    });

    await check('shows the history and sends a message', async () => {
      await page.eval(`document.querySelector('#friends button[aria-label^="Bruno"]').click()`);
      await page.until(`document.querySelectorAll('#messages li').length === 4`);
      await page.eval(`document.getElementById('composer-text').value = 'from the browser'; document.getElementById('composer').requestSubmit()`);
      await page.until(`document.getElementById('messages').textContent.includes('from the browser') && document.getElementById('composer-text').value === ''`);
    });

    await check('shows a live message in the open conversation and counts one elsewhere', async () => {
      const at = Date.now();
      chat.next({ id: 'live-1', from: BRUNO, fromName: 'Bruno', peer: BRUNO, room: '', text: 'got it', sentAtMs: at, outgoing: false });
      chat.next({ id: 'live-2', from: CHIARA, fromName: 'Chiara', peer: CHIARA, room: '', text: 'ping', sentAtMs: at, outgoing: false });
      await page.until(`document.getElementById('messages').textContent.includes('got it')`);
      await page.until(`document.querySelector('#friends button[aria-label^="Chiara"] .badge')?.textContent === '1'`);
    });

    await check('follows presence changes', async () => {
      peers.next({ kind: 'changed', peer: { fingerprint: CHIARA, locationId: 'x', name: 'Chiara', publicKeyArmored: '', online: true, lastSeenMs: 0 } });
      await page.until(`document.querySelector('#friends button[aria-label="Chiara, online"]')`);
    });

    await check('embeds a panel with its token and sandbox', async () => {
      await page.eval(`document.querySelector('#tabs [data-panel="kinfolder/folders"]').click()`);
      await page.until(`document.querySelector('iframe[title="Shared folders"]')`);
      const src = await page.eval<string>(`document.querySelector('iframe[title="Shared folders"]').getAttribute('src')`);
      const sandbox = await page.eval<string>(`document.querySelector('iframe[title="Shared folders"]').getAttribute('sandbox')`);
      if (src !== 'http://127.0.0.1:9/panel#token=demo-panel-token') throw new Error(`src ${src}`);
      if (sandbox !== 'allow-scripts allow-same-origin allow-forms') throw new Error(`sandbox ${sandbox}`);
    });

    await check('drops and adds panel tabs live', async () => {
      panels.next([]);
      await page.until(`document.querySelectorAll('#tabs [role=tab]').length === 1 && document.getElementById('tab-chat').getAttribute('aria-selected') === 'true'`);
      panels.next(backend.listPanels());
      await page.until(`document.querySelectorAll('#tabs [role=tab]').length === 2`);
    });

    await check('removes a friend after confirming', async () => {
      await page.eval(`document.querySelector('#friends button[aria-label^="Bruno"]').click()`);
      await page.until(`!document.getElementById('btn-remove').hidden`);
      await page.eval(`window.confirm = () => true; document.getElementById('btn-remove').click()`);
      await page.until(`!document.querySelector('#friends button[aria-label^="Bruno"]') && document.getElementById('chat-title').textContent === 'Chat'`);
    });

    await check('logged no errors in the page', async () => {
      if (page.problems.length) throw new Error(page.problems.join('; '));
    });
  } finally {
    page.close();
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill();
    await exited;
    controller.abort();
    await rm(profile, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
