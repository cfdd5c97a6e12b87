/** The panel's HTTP API for ui-panel/, on loopback, guarded by the host-issued panel token. */
export { startPanelServer } from './server';
export type { PanelServer, PanelServerOptions } from './server';
