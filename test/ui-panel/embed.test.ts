/**
 * The panel as the devhost's web UI shows it: in a sandboxed iframe on another loopback origin,
 * with its token in the fragment. Checks that the panel's CSP lets the host frame it and that
 * the token reaches it; the devhost's backend is its test fake, the panel is real.
 */
import { startDevhostWeb, type DevhostWeb } from '../../host-bridge/src/devhost/web';
import { startPanelServer, type PanelServer } from '../../plugin/src/panel';
import { FakeBackend, PANEL_TOKEN } from '../host-bridge/devhost/web/fake-backend';
import { devhostPanelUrl, openDevhostPanelTab, openPage, type OpenedPage } from '../helpers/browser';
import { FakeFolderService } from '../plugin/panel/fake-service';

let panel: PanelServer;
let web: DevhostWeb;
let opened: OpenedPage | undefined;

beforeEach(async () => {
  panel = await startPanelServer({ service: FakeFolderService.seeded() });
  panel.setToken(PANEL_TOKEN);
  const backend = new FakeBackend();
  backend.panels = [{ ...backend.panels[0], url: panel.url }];
  web = await startDevhostWeb({ backend, host: '127.0.0.1', port: 0, token: 'embed-test-ui-token-0123456789' });
});

afterEach(async () => {
  await opened?.close();
  opened = undefined;
  await web.close();
  await panel.close();
});

test('the devhost frames the panel; the panel gets its token from the fragment and runs live', async () => {
  opened = await openPage(web.url);
  const frame = await openDevhostPanelTab(opened.page);
  await frame.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await frame.locator('[data-testid="folder-item"][data-folder="f-photos"]').waitFor();
  await frame.locator('[data-testid="file-row"][data-path="beach.jpg"]').waitFor();
  // The token left the panel's address bar once read.
  const src = await frame.locator('body').evaluate(() => location.href);
  expect(src).not.toContain(PANEL_TOKEN);
  // The devhost's own CSP lists [::1] sources that Chromium ignores with a console warning: the host page's, not the panel's.
  expect(opened.errors.filter((e) => !e.includes('[::1]'))).toEqual([]);
});

test('devhostPanelUrl gives the framed address, which opens the panel on its own', async () => {
  const src = await devhostPanelUrl(web.url);
  expect(src).toBe(`${panel.url}#token=${PANEL_TOKEN}`);
  opened = await openPage(src);
  await opened.page.locator('[data-testid="folder-item"][data-folder="f-recipes"]').waitFor();
  await expect(devhostPanelUrl(web.url, 'kinfolder', 'nope')).rejects.toThrow(/no frame/);
});
