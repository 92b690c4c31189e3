// Who may introspect or revoke which token; used for stored tokens by
// oidc-provider and for JWT access tokens by structured-token-endpoints.ts.
import type { Knex } from 'knex';
import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import { resourcesServedBy } from '../rbac/resource-clients.ts';
import { shortLived } from '../rbac/short-lived-cache.ts';

/** What the policy needs of a token: oidc-provider's stored token models, or a JWT's claims. */
export interface IntrospectedToken {
  clientId?: string;
  /** The resource(s) the token is for: a stored token's `aud`, a JWT's `aud` claim. */
  aud?: string | string[];
  /** oidc-provider's model name; a JWT is always an access token. */
  kind?: string;
}

export type IntrospectionPolicy = (ctx: KoaContextWithOIDC, client: Client, token: IntrospectedToken) => Promise<boolean>;

/**
 * RFC 7662 §4: the authorization server decides which protected resources may
 * introspect which tokens. A token is active to its own client, and to the
 * clients registered as resource servers of its audience (RFC 8707 resource;
 * `resource_clients`); to any other client it is `active: false` (§2.2), so a
 * resource server learns nothing about tokens meant for another API. A public
 * client only learns about its own tokens; a refresh token is never sent to a
 * resource server (RFC 6749 §1.5), so only its own client may introspect it.
 * RFC 7592 §2.3: a token whose client was deleted is active for nobody.
 * (oidc-provider runs this before it looks up the token's client to answer
 * `sub`, which would fail with a 500 for a deleted one.)
 *
 * Which resources a client serves is remembered per process for a few seconds
 * (short-lived-cache.ts), as clients are: a registration changed through
 * another process applies there within RBAC_CACHE_TTL_MS.
 */
export function introspectionPolicy(db: Knex): IntrospectionPolicy {
  const served = shortLived(async (clientId) => new Set(await resourcesServedBy(db, clientId)));
  return async function introspectionAllowed(ctx, client, token) {
    if (token.clientId === client.clientId) return true;
    if (client.clientAuthMethod === 'none' || token.clientId === undefined || token.kind === 'RefreshToken') return false;
    const audiences = [token.aud ?? []].flat();
    if (!audiences.length) return false;
    const resources = await served.get(client.clientId);
    if (!audiences.some((aud) => resources.has(aud))) return false;
    // Cached in the process (adapters/client-cache.ts): at most one query per client every few seconds.
    return Boolean(await ctx.oidc.provider.Client.find(token.clientId));
  };
}

/**
 * RFC 7009 §2.1: only the client a token was issued to may revoke it. A public
 * client gets a silent success (nothing revoked) so it cannot probe for tokens.
 */
export async function revocationAllowed(_ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }): Promise<boolean> {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none') return false;
  throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
}
