/**
 * Real Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (no browser
 * download). `openPage(url)` gives a page and a `close()` that always ends the browser; page errors
 * and console errors are collected so a test can assert the page ran clean.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
export const SCREENSHOT_DIR = path.resolve(__dirname, '../../docs/screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, timeout: 30_000 });
}

export interface OpenedPage {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught exceptions and console.error lines of the page, in order (HTTP failures are in `failedResponses`). */
  readonly errors: string[];
  /** Chromium's "Failed to load resource" and failed-WebSocket lines: a refused call a test provokes on purpose lands here, not in `errors`. */
  readonly failedResponses: string[];
  /** Closes the page, its context, and the browser if openPage launched it. Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenPageOptions {
  /** Reuse a browser (several pages in one test); otherwise one is launched and closed with the page. */
  readonly browser?: Browser;
  readonly viewport?: { width: number; height: number };
  /** Default timeout of the page's waits and actions (ms). */
  readonly timeoutMs?: number;
}

export async function openPage(url: string, opts: OpenPageOptions = {}): Promise<OpenedPage> {
  const browser = opts.browser ?? (await launchBrowser());
  const owned = !opts.browser;
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ viewport: opts.viewport ?? { width: 1200, height: 800 }, colorScheme: 'light' });
    context.setDefaultTimeout(opts.timeoutMs ?? 10_000);
    const page = await context.newPage();
    const errors: string[] = [];
    const failedResponses: string[] = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (/^Failed to load resource|^WebSocket connection to .* failed/.test(msg.text())) failedResponses.push(`${msg.location().url}: ${msg.text()}`);
      else errors.push(`console: ${msg.text()}`);
    });
    await page.goto(url);
    let closed = false;
    const ctx = context;
    return {
      browser,
      context: ctx,
      page,
      errors,
      failedResponses,
      async close() {
        if (closed) return;
        closed = true;
        await ctx.close().catch(() => undefined);
        if (owned) await browser.close();
      },
    };
  } catch (err) {
    await context?.close().catch(() => undefined);
    if (owned) await browser.close();
    throw err;
  }
}

/** Saves a screenshot as docs/screenshots/<name>.png, only when KINFOLDER_SCREENSHOTS=1 (they are committed, so not on every run). */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  if (process.env.KINFOLDER_SCREENSHOTS !== '1') return undefined;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/**
 * The address the devhost's UI frames a plugin panel at (panel URL + `#token=`), asked of the
 * devhost's web API with its UI token (`webUrl` is the printed `http://127.0.0.1:<port>/?t=<token>`).
 * Opening it directly gives the panel without the host's page around it.
 */
export async function devhostPanelUrl(webUrl: string, pluginId = 'kinfolder', panelId = 'folders'): Promise<string> {
  const url = new URL(webUrl);
  const res = await fetch(new URL(`/api/panels/${encodeURIComponent(pluginId)}/${encodeURIComponent(panelId)}/frame`, url), {
    headers: { 'x-devhost-token': url.searchParams.get('t') ?? '' },
  });
  const body = (await res.json()) as { src?: string; error?: { message: string } };
  if (!res.ok || !body.src) throw new Error(`the devhost has no frame for ${pluginId}/${panelId}: ${body.error?.message ?? res.status}`);
  return body.src;
}

/** On the devhost's UI page: opens the panel's tab and gives its iframe, to drive the panel as embedded. */
export async function openDevhostPanelTab(page: Page, title = 'Shared folders'): Promise<FrameLocator> {
  await page.getByRole('tab', { name: title }).click();
  await page.locator(`iframe[title="${title}"]`).waitFor();
  return page.frameLocator(`iframe[title="${title}"]`);
}
