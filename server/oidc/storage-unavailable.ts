// oidc-provider catches errors in its own routes and answers 500 `server_error`
// (lib/shared/error_handler.js, authorization_error_handler.js), then emits
// 'server_error' with the error. When that error is a lost connection to
// PostgreSQL or Redis, the client should hear "try again": this turns such a
// 500 into 503 `temporarily_unavailable` (RFC 6749 §4.1.2.1) with Retry-After
// (RFC 9110 §10.2.3), as JSON or, for browsers, an error page. Registered first
// with provider.use, so it sees the final answer of every provider route.
import type { Next } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { isStorageUnavailable } from '../errors/connection.ts';
import { ServiceUnavailable } from '../errors/index.ts';
import { respondWithAppError } from '../errors/http.ts';

const FLAG = 'storageUnavailable';

export function storageUnavailable(provider: Provider) {
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    if (isStorageUnavailable(err)) ctx.state[FLAG] = true;
  });
  return async function answerStorageUnavailable(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();
    if (ctx.status !== 500 || !ctx.state[FLAG]) return;
    // The page oidc-provider drew, or its form state, says "server_error"; say what it is.
    delete ctx.state.oidcError;
    respondWithAppError(ctx, new ServiceUnavailable());
  };
}
