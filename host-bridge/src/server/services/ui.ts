/** Ui service: panels a plugin shows inside the host's UI. */
import type { UiHandlers } from '../../../../proto/generated/kinfolder/host/v1/Ui';
import { type ServiceContext, unary } from '../context';
import { Refusal } from '../errors';
import { panelToWire } from '../wire';

const PANEL_ID = /^[A-Za-z0-9._-]{1,64}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function panelUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Refusal('INVALID_ARGUMENT', `url is not a URL: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  // The host embeds the panel in its own UI: only the plugin's own loopback server may be framed.
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !LOOPBACK.has(url.hostname)) {
    throw new Refusal('INVALID_ARGUMENT', `url must be http(s) on a loopback address, got ${url.protocol}//${url.hostname}`);
  }
  return url.toString();
}

export function uiHandlers(ctx: ServiceContext): UiHandlers {
  return {
    RegisterPanel: unary(ctx, 'Ui.RegisterPanel', 'ui.panel', (req, plugin) => {
      if (!PANEL_ID.test(req.id)) throw new Refusal('INVALID_ARGUMENT', 'id must be 1..64 characters of [A-Za-z0-9._-]');
      if (req.title.length === 0 || req.title.length > 80) throw new Refusal('INVALID_ARGUMENT', 'title must be 1..80 characters');
      const panel = { pluginId: plugin.id, id: req.id, title: req.title, icon: req.icon, url: panelUrl(req.url) };
      const { panelToken } = ctx.adapter.registerPanel(panel);
      return { panel: panelToWire(panel), panelToken };
    }),
    // A plugin sees its own panels only; other plugins' panels are the host's business.
    ListPanels: unary(ctx, 'Ui.ListPanels', 'ui.panel', (_req, plugin) => ({
      panels: ctx.adapter.listPanels().filter((p) => p.pluginId === plugin.id).map(panelToWire),
    })),
  };
}
