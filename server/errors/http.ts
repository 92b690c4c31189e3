// The one place that turns errors into HTTP responses for our own routes.
// oidc-provider answers its protocol endpoints itself (RFC 6749 §5.2 bodies);
// this covers interactions, health and everything else we mount.
import type { Context, Next } from 'koa';
import { AppError, Conflict, MethodNotAllowed, TokenRefused, MethodNotImplemented, NotFound, RateLimited, RETRY_UNAVAILABLE_AFTER_SECONDS, ServiceUnavailable } from './index.ts';
import { isStorageUnavailable } from './connection.ts';
import { errorPage } from '../../views/error.ts';
import { pageFrame } from '../http/page-frame.ts';
import type { Logger } from '../logging/logger.ts';
import { loggedPath } from '../logging/logged-path.ts';

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/** The AppError an error is answered as, or undefined for an unexpected one (500). */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  // PostgreSQL or Redis unreachable: the client may try again (503), it is not our bug (500).
  if (isStorageUnavailable(err)) return new ServiceUnavailable();
  const e = err as HttpLikeError;
  const status = e?.status ?? e?.statusCode;
  // koa/http-errors: client errors are safe to describe, with a generic text.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const description = status === 413 ? 'the request body is too large' : 'the request is malformed';
    const code = status === 404 ? 'not_found' : 'invalid_request';
    return new AppError(status, code, description);
  }
  return undefined;
}

/** Set by an API (the admin API) whose errors are JSON whatever the Accept header says, as its OpenAPI document declares. */
export const JSON_ERRORS = 'jsonErrors';

export function respondWithError(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  if (!ctx.state[JSON_ERRORS] && ctx.accepts('json', 'html') === 'html') {
    ctx.type = 'html';
    // The person's language (the switcher's cookie, Accept-Language); a switch shows a GET's error again, a form's the start page.
    ctx.body = errorPage({ ...pageFrame(ctx, '/'), status, error, description });
  } else {
    ctx.body = { error, error_description: description };
  }
}

/** Answers with `known`: its status and body, and when the client may try again. */
export function respondWithAppError(ctx: Context, known: AppError): void {
  // RFC 6585 §4 (429) and RFC 9110 §15.6.4 (503): Retry-After (RFC 9110 §10.2.3) says when.
  if (known instanceof RateLimited || known instanceof ServiceUnavailable) ctx.set('Retry-After', String(known.retryAfter));
  // RFC 6750 §3: a refused access token says why in WWW-Authenticate.
  if (known instanceof TokenRefused) ctx.set('WWW-Authenticate', known.challenge);
  respondWithError(ctx, known.status, known.code, known.description);
  // A conflict names what is already there, so an API caller can use it (admin API creates).
  if (known instanceof Conflict && known.existingId && typeof ctx.body === 'object') ctx.body = { ...ctx.body, existing_id: known.existingId };
}

/**
 * An error status that something below set without a body: no route (404), or
 * @koa/router's allowedMethods() (405 with Allow, 501 for a method no router
 * knows). koa would answer those in plain text; they get our error shape instead.
 */
function bodilessError(ctx: Context): AppError | undefined {
  if (ctx.body !== undefined && ctx.body !== null) return undefined;
  if (ctx.status === 404) return new NotFound();
  if (ctx.status === 405) return new MethodNotAllowed(ctx.response.get('Allow'));
  if (ctx.status === 501) {
    // allowedMethods() sends the methods of the routes that matched the path, an empty
    // list when none did: that would say "nothing is allowed here" (RFC 9110 §10.2.1).
    if (!ctx.response.get('Allow')) ctx.remove('Allow');
    return new MethodNotImplemented();
  }
  return undefined;
}

export function errorMiddleware(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      const bodiless = bodilessError(ctx);
      if (bodiless) respondWithAppError(ctx, bodiless);
    } catch (err) {
      const known = toAppError(err);
      if (known instanceof ServiceUnavailable) logger.warn({ err, reqId: ctx.state.reqId, path: loggedPath(ctx.path) }, 'storage unavailable');
      if (known) {
        respondWithAppError(ctx, known);
      } else {
        // Unexpected: log it server-side (the error, not the data it carries: server/logging), show nothing internal.
        logger.error({ err, reqId: ctx.state.reqId, path: loggedPath(ctx.path) }, 'unhandled error');
        respondWithError(ctx, 500, 'server_error', 'something went wrong on our side; try again');
      }
    }
    // Every 503 says when to try again, also those drawn elsewhere (oidc-provider's
    // routes, /readyz, pages that render their own error).
    if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(RETRY_UNAVAILABLE_AFTER_SECONDS));
  };
}
