/** The panel's HTTP + WebSocket API for ui-panel/, on loopback, guarded by the host-issued panel token. */
export { startPanelServer } from './server';
export type { PanelServer, PanelServerOptions } from './server';
export { PanelError, SERVICE_STATUS, toHttpError, type PanelErrorCode } from './errors';
export { EVENTS_PROTOCOL, TOKEN_PROTOCOL_PREFIX } from './events';
export { ROUTES } from './routes';
