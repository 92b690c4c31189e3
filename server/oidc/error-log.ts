// oidc-provider answers a refused request with a public description only (every
// `invalid_grant` says "grant request is invalid"; grant-error-descriptions.ts
// puts the known reasons of the token endpoint into words), and keeps the reason
// in `error_detail` ("authorization code redirect_uri mismatch", "code_verifier
// does not match code_challenge"). That reason is logged here, once per refused
// request, with the request id the client saw in X-Request-Id, so an operator
// can answer "why was I refused?".
//
// Never logged: parameters, codes, tokens, verifiers, secrets. Only oidc-provider's
// error code, description and detail, which name what failed, not its values,
// plus the route and the client id.
import type { EventEmitter } from 'node:events';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Middleware } from 'koa';
import type { Logger } from '../logging/logger.ts';

/** oidc-provider's per-route error events (lib/helpers/initialize_app.js), each emitted with (ctx, err). */
const ERROR_EVENTS = [
  'authorization.error', 'grant.error', 'introspection.error', 'revocation.error', 'userinfo.error',
  'device_authorization.error', 'code_verification.error', 'device_resume.error', 'end_session.error',
  'end_session_confirm.error', 'end_session_success.error', 'registration_create.error', 'registration_read.error',
  'registration_update.error', 'registration_delete.error', 'jwks.error', 'discovery.error',
];

interface ProviderError {
  error?: unknown;
  error_description?: unknown;
  error_detail?: unknown;
  status?: unknown;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Where a request's refusal waits for its final status (ctx.state). */
const REFUSAL = 'oidcRefusal';

/**
 * Logs each refused request once, when it ends refused. oidc-provider emits its
 * error event before the middleware around it has answered: a structured (JWT)
 * access token at introspection, revocation or userinfo is declined by
 * oidc-provider and answered 200 by structured-token-endpoints.ts, and such a
 * request must not read as a refusal in the log. The event's fields are kept on
 * the request and logged by the returned middleware, which must be the provider's
 * outermost, unless the request was answered in the end (2xx).
 */
export function logRefusals(provider: Provider, logger: Logger): Middleware {
  // @types/oidc-provider lists only some of these events; the provider is a plain EventEmitter.
  const events = provider as unknown as EventEmitter;
  for (const event of ERROR_EVENTS) {
    events.on(event, (ctx: KoaContextWithOIDC, err: ProviderError) => {
      // 500s are logged, with their stack, by the 'server_error' listener.
      if (typeof err?.status === 'number' && err.status >= 500) return;
      ctx.state[REFUSAL] = {
        reqId: ctx.state?.reqId,
        route: ctx.oidc?.route,
        client_id: ctx.oidc?.client?.clientId,
        error: text(err?.error),
        error_description: text(err?.error_description),
        error_detail: text(err?.error_detail),
      };
    });
  }
  // Back-channel logout (OIDC Back-Channel Logout 1.0 §2.8): a client's receiver failed.
  events.on('backchannel.error', (ctx: KoaContextWithOIDC, err: Error, client: { clientId: string }) => {
    logger.warn({ reqId: ctx?.state?.reqId, client_id: client?.clientId, reason: err?.message }, 'back-channel logout failed');
  });
  return async function logRefusalIfStillRefused(ctx, next) {
    await next();
    const refusal = ctx.state[REFUSAL] as Record<string, unknown> | undefined;
    // Refused: a 4xx, or a redirect that carries the error back to the client
    // (RFC 6749 §4.1.2.1). Answered in the end: a 2xx. A 5xx is logged as an error elsewhere.
    const answered = ctx.status >= 200 && ctx.status < 300;
    if (refusal && !answered && ctx.status < 500) logger.info({ ...refusal, status: ctx.status }, 'oidc request refused');
  };
}
