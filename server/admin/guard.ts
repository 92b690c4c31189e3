// The admin API's route guard, in the shape of Logto's koa-guard: one
// declaration per route gives
//   - its authorisation (./authorise.ts, before anything else is read),
//   - validation of params, query and body (400 invalid_request naming the
//     field; never a 5xx for bad input),
//   - the handler's types (inferred from the zod schemas),
//   - the response, parsed through its schema so nothing undeclared leaves
//     (a password hash in a row stays in the row),
//   - an audit record of the call, success or refusal (server/audit/),
//   - and its OpenAPI entry (./openapi.ts).
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, InvalidRequest, RateLimited } from '../errors/index.ts';
import { JSON_ERRORS, toAppError } from '../errors/http.ts';
import { readJson } from '../http/read-json.ts';
import { recordAudit, type Outcome } from '../audit/record.ts';
import { identify, requireAdmin, type Actor, type AuthoriseDeps } from './authorise.ts';
import { IDEMPOTENCY_HEADER, reserveIdempotencyKey } from './idempotency.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;
type In<S extends Schema> = S extends z.ZodType ? z.input<S> : void;

export interface HandlerInput<P extends Schema, Q extends Schema, B extends Schema> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  actor: Actor;
}

export interface AdminRoute<P extends Schema = Schema, Q extends Schema = Schema, B extends Schema = Schema, R extends Schema = Schema> {
  method: Method;
  /** koa-router path below /api/admin, e.g. `/accounts/:id`. */
  path: string;
  /** OpenAPI operationId; also the audit record's action. */
  operationId: string;
  summary: string;
  /** OpenAPI tag and the audit record's target kind. */
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The success body; none means 204 No Content. */
  response?: R;
  status: 200 | 201 | 204;
  /** The largest body this route reads (default 16 KiB; at most the app's 56 KiB, server/http/request-context.ts). */
  bodyLimitBytes?: number;
  /** Error statuses this route may answer besides 400, 401, 403, 429 and 503 (every route has those). */
  errors?: number[];
  /** A create with no natural key: an Idempotency-Key makes a retry answer 409 with what the first created (./idempotency.ts). */
  idempotent?: boolean;
  /** Audit details from the validated input (never secrets: ./audit/record.ts filters them again). */
  audit?: (input: { params: Out<P>; query: Out<Q>; body: Out<B> }) => Record<string, unknown>;
  handler(input: HandlerInput<P, Q, B>): Promise<In<R>>;
}

// Each route is checked against its own schemas here; the router holds them as one type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = AdminRoute<any, any, any, any>;

export function defineRoute<P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined, R extends Schema = undefined>(
  route: AdminRoute<P, Q, B, R>,
): AnyRoute {
  return route as AnyRoute;
}

export const COMMON_ERRORS = [400, 401, 403, 429, 503];
const BODY_LIMIT_BYTES = 16 * 1024;

/** "body.email: Invalid email address" for the first problem: readable, and names the field. */
function describe(where: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = [where, ...issue.path.map(String)].join('.');
  return `${path}: ${issue.message}`;
}

function parse<S extends Schema>(schema: S, value: unknown, where: string): Out<S> {
  if (!schema) return undefined as Out<S>;
  // PostgreSQL text cannot hold U+0000: refused here as bad input, not failed later as a 500.
  if (JSON.stringify(value ?? null).includes('\\u0000')) throw new InvalidRequest(`${where}: must not contain NUL characters`);
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequest(describe(where, result.error));
  return result.data as Out<S>;
}

/** The audited target: the route's first path parameter (id, name, identifier), or what a create returned (its id, name, identifier or client_id). */
function targetOf(params: Record<string, string>, result: unknown): string | undefined {
  const fromPath = Object.values(params)[0];
  if (typeof fromPath === 'string') return fromPath;
  const created = result as { id?: unknown; name?: unknown; identifier?: unknown; client_id?: unknown } | undefined;
  const id = created?.id ?? created?.name ?? created?.identifier ?? created?.client_id;
  return typeof id === 'string' ? id : undefined;
}

function outcomeOf(status: number): Outcome {
  if (status < 400) return 'success';
  return status === 401 || status === 403 ? 'refused' : 'failure';
}

/** One call of a route, from HTTP (adminRouter) or from the CLI in this process (./local.ts). */
export interface RouteCall {
  /** Who calls, and the check that they may (throws 401/403); run before anything else is read. */
  caller(): Promise<{ actor: Actor; authorise(): Promise<void> }>;
  params: Record<string, string>;
  query: unknown;
  /** The request body, read only once the caller is authorised. */
  body(): Promise<unknown>;
  ip: string | null;
  userAgent: string | null;
  /** The Idempotency-Key header, if any (honoured by routes declared idempotent). */
  idempotencyKey?: string;
  /** Counts a refused call (401, 403) from this caller's address; throws RateLimited past the limit (./router.ts ADMIN_REFUSALS). */
  countRefusal?(): Promise<void>;
}

/**
 * Authorises, validates, handles and audits one call; returns the status and
 * the body to send, or throws the error to answer (after auditing it).
 */
export async function runRoute(route: AnyRoute, db: AuthoriseDeps['db'], call: RouteCall): Promise<{ status: number; body: unknown }> {
  let actor: Actor | undefined;
  let input: { params: unknown; query: unknown; body: unknown } | undefined;
  let result: unknown;
  let status: number = route.status;
  let error: AppError | undefined;
  let unaudited = false;
  try {
    const caller = await call.caller();
    actor = caller.actor;
    await caller.authorise();
    const params = parse(route.params, call.params, 'params');
    const query = parse(route.query, call.query, 'query');
    const body = route.body ? parse(route.body, await call.body(), 'body') : undefined;
    input = { params, query, body };
    const reservation = route.idempotent && call.idempotencyKey !== undefined
      ? await reserveIdempotencyKey(db, { actor, operation: route.operationId, key: call.idempotencyKey, body })
      : undefined;
    try {
      const returned = await route.handler({ params, query, body, actor } as HandlerInput<Schema, Schema, Schema>);
      // Unknown members are stripped; a mismatch is our bug (500), caught by the tests.
      result = route.response ? route.response.parse(returned) : undefined;
    } catch (err) {
      await reservation?.failed();
      throw err;
    }
    await reservation?.done(targetOf(call.params, result));
  } catch (err) {
    error = toAppError(err);
    status = error?.status ?? 500;
    if (outcomeOf(status) === 'refused' && call.countRefusal) {
      try {
        await call.countRefusal();
      } catch (limited) {
        // Past the limit the refusals of this address are answered 429 and not
        // recorded one by one: a flood neither grows the audit log nor costs an insert each.
        if (limited instanceof RateLimited) unaudited = true;
        throw limited;
      }
    }
    throw err;
  } finally {
    // Written for every call, refused ones included (ASVS 7.2.1, 7.2.2), but a refusal past
    // the limit above. Awaited: a change that could not be audited is answered 503, not reported as done.
    if (!unaudited) await audit();
  }
  return { status, body: route.response ? result : undefined };

  async function audit() {
    const targetId = targetOf(call.params, result);
    await recordAudit(db, {
      actor: actor ?? { kind: 'anonymous' },
      action: route.operationId,
      target: { kind: route.tag, id: targetId },
      ip: call.ip,
      userAgent: call.userAgent,
      outcome: outcomeOf(status),
      details: {
        status,
        ...(error ? { error: error.code } : {}),
        ...(input && route.audit ? route.audit(input as never) : {}),
      },
    });
  }
}

async function countRefusal(refusals: { consume(key: string): Promise<unknown> }, ip: string): Promise<void> {
  try {
    await refusals.consume(ip);
  } catch (err) {
    if (err instanceof RateLimited) throw new RateLimited(err.retryAfter, 'too many refused calls from this address; try again later');
    throw err;
  }
}

export function adminRouter(
  routes: AnyRoute[],
  deps: AuthoriseDeps & { refusals?: { consume(key: string): Promise<unknown> } },
  extra: (router: Router) => void = () => {},
): Router {
  const router = new Router({ prefix: '/api/admin' });
  // Every answer of this API is JSON, errors too (a browser's Accept: text/html included).
  router.use((ctx, next) => {
    ctx.state[JSON_ERRORS] = true;
    return next();
  });
  extra(router);
  for (const route of routes) {
    router[route.method](route.path, async (ctx) => {
      const answer = await runRoute(route, deps.db, {
        async caller() {
          const caller = await identify(ctx, deps);
          return { actor: caller.actor, authorise: () => requireAdmin(deps, caller) };
        },
        params: ctx.params,
        query: ctx.query,
        body: () => readJson(ctx, route.bodyLimitBytes ?? BODY_LIMIT_BYTES),
        ip: ctx.ip,
        userAgent: ctx.get('user-agent') || null,
        ...(ctx.get(IDEMPOTENCY_HEADER) ? { idempotencyKey: ctx.get(IDEMPOTENCY_HEADER) } : {}),
        ...(deps.refusals ? { countRefusal: () => countRefusal(deps.refusals!, ctx.ip) } : {}),
      });
      ctx.status = answer.status;
      if (route.response) ctx.body = answer.body;
    });
  }
  return router;
}
