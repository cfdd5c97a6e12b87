/** The JSON API: one parsed request in, one status and body out. No sockets here, so it is tested by calling it. */
import type { DevhostUiBackend } from './backend';
import { WebError, fromBackendError } from './errors';
import {
  panelFrameUrl,
  parseCertificate,
  parseChatTarget,
  parseChatText,
  parseFingerprint,
  parseHistoryLimit,
  parseObject,
} from './validate';

export interface ApiRequest {
  method: string;
  /** The path below `/api`, still percent-encoded, e.g. `/friends/ABC…`. */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
}

export interface ApiContext {
  backend: DevhostUiBackend;
  /** The origins this UI is served from; a panel may not share them. */
  uiOrigins: readonly string[];
}

/** Everything the page needs to draw itself. Panels are listed without their tokens (see `panelFrame`). */
export function stateOf(backend: DevhostUiBackend) {
  return {
    self: backend.self(),
    certificate: backend.certificate(),
    peers: backend.peers(),
    rooms: backend.listRooms(),
    panels: backend.listPanels(),
  };
}

type Handler = (ctx: ApiContext, req: ApiRequest, params: string[]) => Promise<ApiResponse> | ApiResponse;

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const ROUTES: Route[] = [
  { pattern: /^\/state$/, methods: { GET: ({ backend }) => ({ status: 200, body: stateOf(backend) }) } },
  {
    pattern: /^\/friends$/,
    methods: {
      POST: async ({ backend }, req) => {
        const { cert } = parseObject(req.body, ['cert']);
        const text = parseCertificate(cert);
        try {
          const peer = await backend.addFriend(text);
          return { status: 201, body: { peer } };
        } catch (err) {
          // What fails here is almost always the pasted text: say so with the backend's own words.
          throw fromBackendError(err, 'INVALID_CERTIFICATE');
        }
      },
    },
  },
  {
    pattern: /^\/friends\/([^/]+)$/,
    methods: {
      DELETE: async ({ backend }, _req, [fp]) => {
        const fingerprint = parseFingerprint(fp, 'fingerprint');
        if (!backend.peers().some((p) => p.fingerprint === fingerprint)) {
          throw new WebError('NOT_FOUND', `no friend with fingerprint ${fingerprint}`);
        }
        try {
          await backend.removeFriend(fingerprint);
        } catch (err) {
          throw fromBackendError(err, 'INTERNAL');
        }
        return { status: 204 };
      },
    },
  },
  {
    pattern: /^\/chat$/,
    methods: {
      GET: ({ backend }, req) => {
        for (const key of req.query.keys()) {
          if (!['peer', 'room', 'limit', 't'].includes(key)) throw new WebError('INVALID_ARGUMENT', `unknown parameter: ${key}`);
        }
        const target = parseChatTarget(req.query.get('peer') ?? undefined, req.query.get('room') ?? undefined);
        const limit = parseHistoryLimit(req.query.get('limit'));
        try {
          return { status: 200, body: { messages: backend.chatHistory(target, limit) } };
        } catch (err) {
          throw fromBackendError(err, 'INTERNAL');
        }
      },
      POST: async ({ backend }, req) => {
        const body = parseObject(req.body, ['peer', 'room', 'text']);
        const target = parseChatTarget(body.peer, body.room);
        const text = parseChatText(body.text);
        try {
          const sent = await backend.sendChat(target, text);
          return { status: 201, body: sent };
        } catch (err) {
          throw fromBackendError(err, 'INTERNAL');
        }
      },
    },
  },
  {
    pattern: /^\/panels\/([^/]+)\/([^/]+)\/frame$/,
    methods: {
      GET: ({ backend, uiOrigins }, _req, [pluginId, panelId]) => {
        const panel = backend.listPanels().find((p) => p.pluginId === pluginId && p.id === panelId);
        const token = panel && backend.panelToken(pluginId, panelId);
        if (!panel || token === undefined) throw new WebError('NOT_FOUND', `no panel ${pluginId}/${panelId}`);
        return { status: 200, body: { src: panelFrameUrl(panel, token, uiOrigins) } };
      },
    },
  },
];

function decodeParams(match: RegExpExecArray): string[] {
  try {
    return match.slice(1).map((s) => decodeURIComponent(s));
  } catch {
    throw new WebError('INVALID_ARGUMENT', 'malformed percent-encoding in the path');
  }
}

/** Runs one API request; every failure comes back as a WebError (thrown), never as a raw backend error. */
export async function handleApi(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  for (const route of ROUTES) {
    const match = route.pattern.exec(req.path);
    if (!match) continue;
    const handler = route.methods[req.method];
    if (!handler) throw new WebError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on /api${req.path}`);
    return handler(ctx, req, decodeParams(match));
  }
  throw new WebError('NOT_FOUND', `no such endpoint: /api${req.path}`);
}
