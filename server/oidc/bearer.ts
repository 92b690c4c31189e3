// The access token of a call to one of Enot ID's own APIs (the first-party QR
// API, the admin API): an RFC 9068 JWT this provider issued and that is still
// active (jwt-access-tokens.ts: signature, expiry, revocation, client, grant,
// account), presented as RFC 6750 Bearer, or as DPoP with a fresh proof when it
// is bound to a key (RFC 9449 §7.1, ./dpop.ts).
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { TokenRefused } from '../errors/index.ts';
import type { JwtAccessTokens } from './jwt-access-tokens.ts';
import { boundKey, challenge, presentedToken, replayStore, senderProblem } from './dpop.ts';

export interface BearerDeps {
  provider: { current: Provider; accessTokens: JwtAccessTokens };
  issuer: string;
}

export type ActiveAccessToken = NonNullable<Awaited<ReturnType<JwtAccessTokens['active']>>>;

export async function activeAccessToken(ctx: Context, deps: BearerDeps): Promise<ActiveAccessToken> {
  const token = presentedToken(ctx.get('authorization'));
  // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
  if (!token) throw new TokenRefused(401, 'invalid_token', 'a valid bearer access token is required', 'Bearer');
  const found = await deps.provider.accessTokens.active(token.token);
  if (!found) throw new TokenRefused(401, 'invalid_token', 'a valid bearer access token is required', 'Bearer error="invalid_token"');
  // A DPoP-bound token needs its proof here too (RFC 9449 §7.1); a plain one the Bearer scheme.
  const jkt = boundKey(found.claims);
  const replay = replayStore(deps.provider.current);
  const problem = await senderProblem({
    presented: token,
    jkt,
    proof: ctx.get('dpop') || undefined,
    method: ctx.method,
    url: `${deps.issuer}${ctx.path}`,
    unique: (jti, expiresAt) => replay.unique(found.claims.client_id, jti, expiresAt),
  });
  if (problem) throw new TokenRefused(401, problem.error, problem.description, challenge(token, jkt, problem));
  return found;
}

/** True when the token was issued for `resource` (RFC 9068 §4 `aud`) with `scope` (RFC 9068 §2.2.3). */
export function grants(found: ActiveAccessToken, resource: string, scope: string): boolean {
  const audience = [found.claims.aud ?? []].flat();
  return audience.includes(resource) && (found.claims.scope ?? '').split(' ').includes(scope);
}
