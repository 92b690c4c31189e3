// Where oidc-provider 9 answers `invalid_request` but RFC 6749 names a precise
// code, the answer is corrected after oidc-provider has made it. Each case is
// recognised by what the request was, not only by the message.
import type { Next } from 'koa';
import type { KoaContextWithOIDC, ResponseType } from 'oidc-provider';

const UNAUTHORIZED_GRANT = 'requested grant type is not allowed for this client';
const UNAUTHORIZED_RESPONSE_TYPE = 'requested response_type is not allowed for this client';

/**
 * RFC 6749 §5.2: a grant type the authenticated client did not register is
 * `unauthorized_client` (lib/actions/token.js says `invalid_request`). Only for
 * an authenticated client: one that failed authentication hears `invalid_client`
 * and learns nothing about its grant types.
 */
function unauthorizedGrantType(ctx: KoaContextWithOIDC): void {
  const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
  if (ctx.status !== 400 || body?.error !== 'invalid_request' || body.error_description !== UNAUTHORIZED_GRANT) return;
  const grantType = (ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type;
  const client = ctx.oidc.client;
  if (!client || typeof grantType !== 'string' || client.grantTypeAllowed(grantType)) return;
  body.error = 'unauthorized_client';
}

/**
 * RFC 6749 §4.1.2.1 / §4.2.2.1: a response type the client did not register is
 * `unauthorized_client` (lib/actions/authorization/response_parameters.js says
 * `invalid_request`). The error travels in the redirect's query or fragment; a
 * form_post answer is an HTML page and is left as it is.
 */
function unauthorizedResponseType(ctx: KoaContextWithOIDC): void {
  const location = ctx.response.get('Location');
  if (!location || ctx.status < 300 || ctx.status >= 400) return;
  const url = URL.parse(location);
  const responseType = (ctx.oidc.params as { response_type?: unknown } | undefined)?.response_type;
  if (!url || !ctx.oidc.client || typeof responseType !== 'string' || ctx.oidc.client.responseTypeAllowed(responseType as ResponseType)) return;
  const inFragment = url.hash.length > 1;
  const params = new URLSearchParams(inFragment ? url.hash.slice(1) : url.search);
  if (params.get('error') !== 'invalid_request' || params.get('error_description') !== UNAUTHORIZED_RESPONSE_TYPE) return;
  params.set('error', 'unauthorized_client');
  if (inFragment) url.hash = params.toString();
  else url.search = params.toString();
  ctx.set('Location', url.href);
}

export async function preciseErrorCodes(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
  await next();
  const route = ctx.oidc?.route;
  if (route === 'token') unauthorizedGrantType(ctx);
  else if (route === 'authorization') unauthorizedResponseType(ctx);
}
