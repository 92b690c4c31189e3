// RFC 9068 JWT access tokens are not stored by oidc-provider, which therefore
// refuses to introspect or revoke them. This module gives them the same life as
// stored tokens: a JWT access token is active only while its signature is valid,
// it is unexpired, it was not revoked, its client and grant still exist and its
// account is active. Revocation is remembered (by jti) until the token would
// expire anyway.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { Grant } from 'oidc-provider';
import type { Adapter } from '../../adapters/types.ts';
import { isAccountActive } from '../accounts/queries.ts';
import { rememberVerified } from './remembered-verification.ts';

/** Private claim naming the grant a user-bound token belongs to. */
export const GRANT_CLAIM = 'grant_id';

export interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope?: string;
  [GRANT_CLAIM]?: string;
}

export function looksLikeJwt(value: unknown): value is string {
  if (typeof value !== 'string' || value.split('.').length !== 3) return false;
  try {
    return !!decodeProtectedHeader(value);
  } catch {
    return false;
  }
}

// Models that hold a grant's tokens and codes; all go when the grant is revoked.
const GRANT_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'] as const;

export function jwtAccessTokens(deps: {
  provider: Provider;
  db: Knex;
  issuer: string;
  signingKeys: JWK[];
  revoked: Adapter;
}) {
  const { provider, db, issuer, revoked } = deps;
  const publicKeys = deps.signingKeys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub);
  const keySet = createLocalJWKSet({ keys: publicKeys });

  /**
   * The verified claims, or undefined for a bad signature, issuer, type or an
   * expired token. Checked once per token per process, not per introspection.
   */
  const verified = rememberVerified(async (token: string): Promise<AccessTokenClaims | undefined> => {
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256'],
        requiredClaims: ['exp', 'iat', 'jti', 'client_id'],
      });
      return payload as AccessTokenClaims;
    } catch {
      return undefined;
    }
  });

  /**
   * The claims of an active token (and its grant, for user-bound tokens), or
   * undefined. The checks run in parallel: one round trip each.
   */
  async function active(
    token: string,
    /** How the person's account is checked; userinfo passes its account lookup, so the one query serves both. */
    accountIsActive: (id: string) => Promise<boolean> = (id) => isAccountActive(db, id),
  ): Promise<{ claims: AccessTokenClaims; grant?: Grant } | undefined> {
    const claims = await verified(token);
    if (!claims) return undefined;
    const grantId = claims[GRANT_CLAIM];
    // RFC 7592 §2.3: a deleted client's tokens die with it, also those without a
    // grant (client credentials). Clients are cached in the process
    // (adapters/client-cache.ts), so this costs at most one query per client every
    // CLIENT_CACHE_TTL_MS; a client deleted by another process is seen within that.
    const [client, wasRevoked, grant, accountActive] = await Promise.all([
      provider.Client.find(claims.client_id),
      revoked.find(claims.jti!),
      grantId ? provider.Grant.find(grantId) : undefined,
      grantId && claims.sub ? accountIsActive(claims.sub) : true,
    ]);
    if (!client || wasRevoked) return undefined;
    if (grantId) {
      if (!grant || grant.clientId !== claims.client_id || grant.accountId !== claims.sub) return undefined;
      if (!accountActive) return undefined;
    }
    return { claims, grant };
  }

  /** Revokes the token and, like oidc-provider does for stored access tokens, its whole grant. */
  async function revoke(claims: AccessTokenClaims): Promise<void> {
    const ttl = Math.max(1, (claims.exp ?? 0) - Math.floor(Date.now() / 1000));
    const grantId = claims[GRANT_CLAIM];
    await Promise.all([
      revoked.upsert(claims.jti!, { jti: claims.jti, exp: claims.exp }, ttl),
      grantId ? revokeGrant(grantId) : undefined,
    ]);
  }

  /** Revokes a grant with every token and code issued under it, wherever stored (oidc-provider's own revocation does the same). */
  async function revokeGrant(grantId: string): Promise<void> {
    const models = provider as unknown as Record<string, { adapter: Adapter }>;
    await Promise.all([
      ...GRANT_MODELS.map((name) => models[name]!.adapter.revokeByGrantId(grantId)),
      models.Grant!.adapter.destroy(grantId),
    ]);
    provider.emit('grant.revoked', undefined, grantId);
  }

  return { verified, active, revoke, revokeGrant };
}

export type JwtAccessTokens = ReturnType<typeof jwtAccessTokens>;
