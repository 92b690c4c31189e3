// The admin API's routes run in this process, for the CLI when it holds the
// storage itself (DATABASE_URL, or an embedded database no server holds): the
// same validation, handlers, response schemas and audit records as over HTTP,
// with the operator at the command line as the actor instead of a token's
// holder. Whoever can run this can open the database directly anyway.
import { adminRoutes, type AdminDeps } from './router.ts';
import { runRoute, type Method } from './guard.ts';

export interface AdminRequest {
  method: Method;
  /** The route's path as declared, e.g. `/accounts/:id`. */
  path: string;
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

export type AdminCaller = (request: AdminRequest) => Promise<unknown>;

export function localAdmin(deps: AdminDeps, operator: string): AdminCaller {
  const routes = adminRoutes(deps);
  return async (request) => {
    const route = routes.find((r) => r.method === request.method && r.path === request.path);
    if (!route) throw new Error(`the admin API has no ${request.method.toUpperCase()} ${request.path}`);
    const query = Object.fromEntries(Object.entries(request.query ?? {}).filter(([, v]) => v !== undefined));
    const answer = await runRoute(route, deps.db, {
      caller: async () => ({ actor: { kind: 'operator', id: operator }, authorise: async () => {} }),
      params: request.params ?? {},
      query,
      // As it would arrive over HTTP: JSON, nothing shared with the caller's objects.
      body: async () => JSON.parse(JSON.stringify(request.body ?? {})),
      ip: null,
      userAgent: 'enot-id command line',
    });
    return answer.body;
  };
}
