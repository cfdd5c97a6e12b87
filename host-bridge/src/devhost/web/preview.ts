/**
 * Shows the web UI with made-up data, without a devhost node: two friends, a room, a few messages
 * and one plugin panel (served here on another loopback port).
 *
 *   npx tsx host-bridge/src/devhost/web/preview.ts                       # prints the URL, runs until Ctrl-C
 *   npx tsx host-bridge/src/devhost/web/preview.ts --screenshot out.png  # headless Chromium picture, then exits
 *     [--fragment 'peer=<FP>'|'room=<id>'|'tab=<plugin>/<panel>'] [--size 1280,800] [--empty]
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import type { ChatTarget, HostChatMessage, HostChatRoom, HostPanel, HostPeer, HostPeerEvent, HostSelf } from '../../adapter';
import type { DevhostUiBackend } from './backend';
import { startDevhostWeb } from './index';

const ANA = 'A1B2C3D4E5F60718293A4B5C6D7E8F9012345678';
const BRUNO = 'B0B0B0B0C1C2C3C4D5D6D7D8E9E0F1F2A3A4B5B6';
const CHIARA = 'C4C4A1A1B2B2C3C3D4D4E5E5F6F60707A8A8B9B9';

/** `empty` gives the first-run picture: no friends, rooms, messages or panels. */
export function demoBackend(panelUrl: string, now = Date.now(), empty = false): DevhostUiBackend {
  const self: HostSelf = {
    fingerprint: ANA, locationId: 'loc-ana', displayName: 'Ana', publicKeyArmored: '',
    keyAlgorithm: 'ed25519', hostSoftware: 'kinfolder-devhost/preview',
  };
  const peers = new Map<string, HostPeer>([
    [BRUNO, { fingerprint: BRUNO, locationId: 'loc-bruno', name: 'Bruno', publicKeyArmored: '', online: true, lastSeenMs: now }],
    [CHIARA, { fingerprint: CHIARA, locationId: 'loc-chiara', name: 'Chiara', publicKeyArmored: '', online: false, lastSeenMs: now - 3_600_000 }],
  ]);
  if (empty) peers.clear();
  const rooms: HostChatRoom[] = empty ? [] : [{ id: 'family', title: 'Family photos', members: [ANA, BRUNO, CHIARA] }];
  let seq = 0;
  const msg = (m: Omit<HostChatMessage, 'id'>): HostChatMessage => ({ id: `m${++seq}`, ...m });
  const history: HostChatMessage[] = [
    msg({ from: BRUNO, fromName: 'Bruno', peer: BRUNO, room: '', text: 'Hi Ana! Did the holiday pictures sync on your side?', sentAtMs: now - 600_000, outgoing: false }),
    msg({ from: ANA, fromName: 'Ana', peer: BRUNO, room: '', text: 'Yes, all 214 of them. The folder shows “in sync” for both of us.', sentAtMs: now - 540_000, outgoing: true }),
    msg({ from: BRUNO, fromName: 'Bruno', peer: BRUNO, room: '', text: 'Great. I will add the videos tonight.', sentAtMs: now - 500_000, outgoing: false }),
    msg({ from: BRUNO, fromName: 'Bruno', peer: BRUNO, room: '', text: 'They are large, so give it a while.', sentAtMs: now - 490_000, outgoing: false }),
    msg({ from: CHIARA, fromName: 'Chiara', peer: '', room: 'family', text: 'Who has the scans of grandma’s letters?', sentAtMs: now - 7_200_000, outgoing: false }),
    msg({ from: ANA, fromName: 'Ana', peer: '', room: 'family', text: 'I put them in the shared folder under /letters.', sentAtMs: now - 7_000_000, outgoing: true }),
  ];
  if (empty) history.length = 0;
  const panels: HostPanel[] = empty ? [] : [{ pluginId: 'kinfolder', id: 'folders', title: 'Shared folders', icon: '📁', url: panelUrl }];
  const chatMessages = new Subject<HostChatMessage>();
  const peerEvents = new Subject<HostPeerEvent>();
  const panelEvents = new Subject<HostPanel[]>();
  const matches = (m: HostChatMessage, of: ChatTarget) => ('peer' in of ? m.peer === of.peer && !m.room : m.room === of.room);

  return {
    self: () => self,
    certificate: () =>
      '-----BEGIN KINFOLDER DEVHOST CERTIFICATE-----\nname: Ana\nfingerprint: ' + ANA +
      '\naddress: 127.0.0.1:41234\n\nxjMEZS1fYBYJKwYBBAHaRw8BAQdAc2VjcmV0LW5vdC1yZWFsbHktYS1rZXk\n-----END KINFOLDER DEVHOST CERTIFICATE-----',
    peers: () => [...peers.values()],
    peerEvents,
    async addFriend(cert) {
      const m = /fingerprint:\s*([0-9A-F]{40})/.exec(cert);
      const n = /name:\s*(.+)/.exec(cert);
      if (!m || !n) throw new Error('not a devhost certificate: no name or fingerprint line');
      const peer: HostPeer = { fingerprint: m[1], locationId: 'loc', name: n[1].trim(), publicKeyArmored: '', online: false, lastSeenMs: 0 };
      peers.set(peer.fingerprint, peer);
      peerEvents.next({ kind: 'added', peer });
      return peer;
    },
    async removeFriend(fp) {
      peers.delete(fp);
      peerEvents.next({ kind: 'removed', fingerprint: fp });
    },
    async sendChat(to, text) {
      const message = msg({
        from: ANA, fromName: 'Ana', peer: 'peer' in to ? to.peer : '', room: 'room' in to ? to.room : '',
        text, sentAtMs: Date.now(), outgoing: true,
      });
      history.push(message);
      const deliveredTo = 'peer' in to ? (peers.get(to.peer)?.online ? [to.peer] : []) : [BRUNO];
      return { message, deliveredTo };
    },
    chatMessages,
    listRooms: () => rooms,
    chatHistory: (of, limit) => history.filter((m) => matches(m, of)).slice(-limit),
    listPanels: () => panels,
    panelToken: (pluginId, id) => (pluginId === 'kinfolder' && id === 'folders' ? 'demo-panel-token' : undefined),
    panelEvents,
  };
}

/** A stand-in for a sidecar's panel: shows the token it was handed, as a real panel would read it. */
async function startDemoPanel(): Promise<{ url: string; server: Server }> {
  const html = `<!doctype html><meta charset="utf-8"><title>Shared folders</title>
<body style="font-family:system-ui;margin:24px;color:#1d2330">
<h2 style="margin-top:0">📁 Shared folders</h2>
<p>Demo panel served by a stand-in sidecar on its own port.</p>
<p>Token from the fragment: <code id="t"></code></p>
<script>document.getElementById('t').textContent = new URLSearchParams(location.hash.slice(1)).get('token') || '(none)';</script>`;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/panel`, server };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function screenshot(url: string, out: string, size: string): Promise<void> {
  const profile = await mkdtemp(join(tmpdir(), 'devhost-preview-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        'chromium',
        [
          '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
          '--no-first-run', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`, `--screenshot=${out}`,
          `--window-size=${size}`, '--virtual-time-budget=4000', url,
        ],
        { timeout: 60_000 },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const panel = await startDemoPanel();
  const controller = new AbortController();
  const web = await startDevhostWeb({ backend: demoBackend(panel.url, Date.now(), process.argv.includes('--empty')), host: '127.0.0.1', port: Number(arg('--port') ?? 0), signal: controller.signal });
  const fragment = arg('--fragment');
  const url = web.url + (fragment ? '#' + fragment : '');
  const out = arg('--screenshot');
  if (out) {
    try {
      await screenshot(url, out, arg('--size') ?? '1280,800');
      console.log(`screenshot of ${url} written to ${out}`);
    } finally {
      controller.abort();
      panel.server.close();
    }
    return;
  }
  console.log(`devhost web UI preview: ${url}`);
  process.once('SIGINT', () => {
    controller.abort();
    panel.server.close();
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
