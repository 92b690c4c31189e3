// Token endpoint errors a developer can act on. oidc-provider answers every
// refused grant `invalid_grant` "grant request is invalid" and keeps the reason
// in the error's `error_detail` ("authorization code redirect_uri mismatch",
// "code_verifier does not match code_challenge"). RFC 6749 §5.2 lets
// `error_description` be "human-readable ASCII text providing additional
// information, used to assist the client developer", so the known reasons are
// answered in words here; unknown ones keep oidc-provider's description.
//
// Never said: anything about a code or token issued to another client. A code
// or refresh token of another client is answered as one that does not exist
// (oidc-provider checks the client before expiry and reuse, so nothing more
// leaks), and no description names a value the client sent.
//
// oidc-provider's error handler sets the body, then emits `grant.error` with
// the error (lib/shared/error_handler.js); the listener keeps the detail on the
// request's state, and the middleware rewrites the body once the route is done.
import type { Next } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

const DETAIL = Symbol('grant error detail');

/** oidc-provider's `error_detail` (lib/actions/grants/*.js, lib/helpers/grant_source.js, pkce.js) → what the client is told. */
export const GRANT_ERROR_DESCRIPTIONS: Record<string, Record<string, string>> = {
  authorization_code: {
    'authorization code not found': 'authorization code not found for this client',
    'client mismatch': 'authorization code not found for this client',
    'authorization code is expired': 'authorization code expired',
    'authorization code already consumed': 'authorization code already used; the tokens issued with it are revoked',
    'authorization code redirect_uri mismatch': 'redirect_uri does not match the one in the authorization request',
    'code_verifier does not match code_challenge': 'PKCE verification failed: code_verifier does not match the code_challenge of the authorization request',
    'code_verifier must be provided': 'PKCE verification failed: code_verifier is missing; the authorization request sent a code_challenge',
    'grant not found': 'authorization code revoked',
    'grant is expired': 'authorization code expired',
    'authorization code invalid (referenced account not found)': 'the account the authorization code was issued for is no longer active',
    'missing DPoP proof JWT': 'the authorization request was bound to a DPoP key (dpop_jkt); send a DPoP proof with that key',
    'DPoP proof key thumbprint does not match dpop_jkt': 'the DPoP proof is signed with another key than the authorization request named (dpop_jkt)',
  },
  refresh_token: {
    'refresh token not found': 'refresh token not found for this client, or revoked',
    'client mismatch': 'refresh token not found for this client, or revoked',
    'refresh token is expired': 'refresh token expired',
    'grant not found': 'refresh token revoked',
    'grant is expired': 'refresh token expired',
    // Refresh tokens rotate (RFC 9700 §4.14.2): reuse of a replaced one revokes the whole grant.
    'refresh token already used': 'refresh token already used; it was replaced by a newer one, and every token of this grant is now revoked',
    'refresh token invalid (referenced account not found)': 'the account the refresh token was issued for is no longer active',
    'failed jkt verification': 'the refresh token is bound to a DPoP key; send a DPoP proof with that key (RFC 9449 §5)',
  },
  'urn:ietf:params:oauth:grant-type:device_code': {
    'device code not found': 'device_code not found for this client',
    'client mismatch': 'device_code not found for this client',
    'device code already consumed': 'device_code already used; the tokens issued with it are revoked',
    'grant not found': 'device_code revoked',
    'device code invalid (referenced account not found)': 'the account the device_code was issued for is no longer active',
  },
};

/** What the client is told for this grant type and oidc-provider's detail; undefined: keep oidc-provider's description. */
export function grantErrorDescription(grantType: unknown, detail: unknown): string | undefined {
  if (typeof grantType !== 'string' || typeof detail !== 'string') return undefined;
  return GRANT_ERROR_DESCRIPTIONS[grantType]?.[detail];
}

export function grantErrorDescriptions(provider: Provider) {
  // @types/oidc-provider types this event's error as a plain Error; it is oidc-provider's OIDCProviderError.
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: { error?: unknown; error_detail?: unknown }) => {
    if (err?.error === 'invalid_grant') (ctx.state as Record<symbol, unknown>)[DETAIL] = err.error_detail;
  });

  return async function describeGrantErrors(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'token') return;
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    // A JSON answer only: a token request that asks for HTML gets the error page unchanged.
    if (ctx.status !== 400 || !body || typeof body !== 'object' || body.error !== 'invalid_grant') return;
    const grantType = (ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type;
    const description = grantErrorDescription(grantType, (ctx.state as Record<symbol, unknown>)[DETAIL]);
    if (description) body.error_description = description;
  };
}
