/**
 * Driving the Kinfolder panel as a person does: the devhost's web UI in Chromium, its
 * "Shared folders" tab, the panel in that tab's iframe. Waits are conditions with deadlines
 * (playwright's locator waits, or a polled check), never fixed sleeps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, FrameLocator, Locator, Page } from 'playwright-core';
import { openDevhostPanelTab, openPage, SCREENSHOT_DIR, type OpenedPage } from '../helpers/browser';
import { poll } from '../../scripts/lib/panel-api';

export const WAIT_MS = 30_000;

/** `[data-testid="…"]` plus an optional attribute filter, e.g. sel('file-row', 'path', 'a.txt'). */
export function sel(testid: string, attr?: string, value?: string): string {
  return `[data-testid="${testid}"]${attr ? `[data-${attr}="${value}"]` : ''}`;
}

export interface PanelTab {
  readonly opened: OpenedPage;
  readonly page: Page;
  /** The panel inside the devhost page. */
  readonly panel: FrameLocator;
  /** Waits for the element of `selector` (whose text matches `text`, if given) and gives it. */
  see(selector: string, text?: RegExp, ms?: number): Promise<Locator>;
  /** Waits until no element of `selector` is attached. */
  gone(selector: string, ms?: number): Promise<void>;
  /** Saves the panel's frame as docs/screenshots/<name>.png when KINFOLDER_SCREENSHOTS=1. */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens a node's devhost UI (its `web.url`), switches to the panel's tab and waits until the panel runs live. */
export async function openPanelTab(browser: Browser, webUrl: string): Promise<PanelTab> {
  const opened = await openPage(webUrl, { browser, viewport: { width: 1280, height: 900 }, timeoutMs: WAIT_MS });
  const page = opened.page;
  const panel = await openDevhostPanelTab(page);
  await panel.locator(sel('connection', 'state', 'live')).waitFor();
  const tab: PanelTab = {
    opened,
    page,
    panel,
    async see(selector, text, ms = WAIT_MS) {
      const l = text ? panel.locator(selector).filter({ hasText: text }).first() : panel.locator(selector).first();
      await l.waitFor({ timeout: ms });
      return l;
    },
    async gone(selector, ms = WAIT_MS) {
      await panel.locator(selector).first().waitFor({ state: 'detached', timeout: ms });
    },
    async shot(name) {
      if (process.env.KINFOLDER_SCREENSHOTS !== '1') return;
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      // The whole host page: the panel as a person sees it, framed by the host's own UI.
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
    },
    close: () => opened.close(),
  };
  return tab;
}

/** Polls a check until it holds (files on disk have no event the test can wait on); fails after `ms` with `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  await poll(async () => ((await check()) ? true : undefined), what, ms, 100);
}

export function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

export function read(root: string, rel: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, rel), 'utf8');
  } catch {
    return undefined;
  }
}

/** Every file under `root` (relative, '/'-separated), without Kinfolder's own `.kinfolder/`. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (rel === '.kinfolder') continue;
      if (e.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}
