/**
 * The panel's JSON API: one row per route, each a thin call into the FolderService.
 * The full list, with bodies and answers, is in ui-panel/API.md.
 */
import type { FolderService } from '../folders/types';
import { PanelError } from './errors';
import * as v from './validate';

export interface RouteContext {
  readonly service: FolderService;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** The parsed JSON body of a POST (undefined for GET). */
  readonly body: unknown;
  /** Aborted when the browser goes away or the server closes. */
  readonly signal: AbortSignal;
}

/** A JSON answer, or raw bytes (file contents). */
export type RouteResult = { readonly json: unknown; readonly status?: number } | { readonly bytes: Buffer };

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  readonly handle: (ctx: RouteContext) => Promise<RouteResult>;
}

const ID = '([^/]+)';
const MAX_READ = 8 * 1024 * 1024;
const json = async (p: Promise<unknown> | unknown): Promise<RouteResult> => ({ json: (await p) ?? { ok: true } });
const required = (q: URLSearchParams, name: string): string => v.text(q.get(name), name);
const route = (method: Route['method'], path: string, handle: Route['handle']): Route => ({ method, pattern: new RegExp(`^${path}$`), handle });

export const ROUTES: readonly Route[] = [
  route('GET', '/api/self', ({ service }) => json(service.self())),
  route('GET', '/api/friends', ({ service }) => json(service.friends())),

  route('GET', '/api/folders', ({ service }) => json(service.folders())),
  route('POST', '/api/folders', ({ service, body, signal }) => {
    const b = v.object(body, ['name', 'root']);
    const created = service.createFolder({ name: v.text(b.name, 'name', 256), root: v.text(b.root, 'root') }, signal);
    return created.then((folder) => ({ json: folder, status: 201 }));
  }),
  route('GET', `/api/folders/${ID}`, ({ service, params }) => json(service.folder(params[0]))),
  route('POST', `/api/folders/${ID}/leave`, ({ service, params, body }) => {
    v.object(body ?? {}, []);
    return json(service.leaveFolder(params[0]));
  }),

  route('GET', '/api/invitations', ({ service }) => json(service.invitations())),
  route('POST', `/api/invitations/${ID}/accept`, ({ service, params, body, signal }) => {
    const b = v.object(body, ['root']);
    return json(service.acceptInvitation(params[0], v.text(b.root, 'root'), signal));
  }),
  route('POST', `/api/invitations/${ID}/decline`, ({ service, params, body }) => {
    v.object(body ?? {}, []);
    return json(service.declineInvitation(params[0]));
  }),

  route('GET', `/api/folders/${ID}/members`, ({ service, params }) => json(service.members(params[0]))),
  route('POST', `/api/folders/${ID}/members`, ({ service, params, body, signal }) => json(service.editMember(params[0], v.memberEdit(body), signal))),
  route('GET', `/api/folders/${ID}/manifest-history`, ({ service, params }) => json(service.manifestHistory(params[0]))),

  route('GET', `/api/folders/${ID}/files`, ({ service, params, query }) => json(service.files(params[0], v.dir(query.get('dir'))))),
  route('GET', `/api/folders/${ID}/file`, async ({ service, params, query }) => {
    const version = query.get('version');
    const maxBytes = v.int(query.get('maxBytes'), 'maxBytes', 1024 * 1024, 0, MAX_READ);
    return { bytes: await service.readFile(params[0], required(query, 'path'), version ? v.text(version, 'version', 256) : undefined, maxBytes) };
  }),
  route('GET', `/api/folders/${ID}/activity`, ({ service, params, query }) => json(service.activity(params[0], v.int(query.get('limit'), 'limit', 100, 1, 1000)))),
  route('GET', `/api/folders/${ID}/versions`, ({ service, params, query }) => json(service.versions(params[0], required(query, 'path')))),
  route('POST', `/api/folders/${ID}/restore`, ({ service, params, body, signal }) => {
    const b = v.object(body, ['path', 'version']);
    return json(service.restore(params[0], v.text(b.path, 'path'), v.text(b.version, 'version', 256), signal));
  }),
  route('GET', `/api/folders/${ID}/deleted`, ({ service, params }) => json(service.deleted(params[0]))),

  route('GET', `/api/folders/${ID}/conflicts`, ({ service, params }) => json(service.conflicts(params[0]))),
  route('POST', `/api/folders/${ID}/conflicts/resolve`, ({ service, params, body, signal }) => {
    const { path, choice } = v.conflictChoice(body);
    return json(service.resolveConflict(params[0], path, choice, signal));
  }),

  route('POST', `/api/folders/${ID}/open`, ({ service, params, body }) => {
    const b = v.object(body, ['path', 'open']);
    return json(service.setOpen(params[0], v.text(b.path, 'path'), v.bool(b.open, 'open')));
  }),

  route('GET', `/api/folders/${ID}/chat`, ({ service, params, query }) => json(service.chatHistory(params[0], v.int(query.get('limit'), 'limit', 100, 1, 1000)))),
  route('POST', `/api/folders/${ID}/chat`, ({ service, params, body }) => {
    const b = v.object(body, ['text']);
    return json(service.sendChat(params[0], v.text(b.text, 'text')));
  }),
];

/** The route for a request, with its decoded path parameters; NOT_FOUND or METHOD_NOT_ALLOWED otherwise. */
export function match(method: string, pathname: string): { route: Route; params: string[] } {
  let pathMatched = false;
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    let params: string[];
    try {
      params = m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      throw new PanelError('BAD_INPUT', 'a path parameter is not valid percent-encoding');
    }
    return { route: r, params: params.map((p, i) => v.text(p, `path parameter ${i + 1}`, 256)) };
  }
  if (pathMatched) throw new PanelError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}`);
  throw new PanelError('NOT_FOUND', `no such API: ${method} ${pathname}`);
}
