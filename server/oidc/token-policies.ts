// Who may introspect or revoke which token; used for stored tokens by
// oidc-provider and for JWT access tokens by structured-token-endpoints.ts.
import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * RFC 7662 §4: a public client may only learn about its own tokens. RFC 7592
 * §2.3: a token whose client was deleted is active for nobody. (oidc-provider
 * runs this before it looks up the token's client to answer `sub`, which would
 * fail with a 500 for a deleted one.)
 */
export async function introspectionAllowed(ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }): Promise<boolean> {
  if (token.clientId === client.clientId) return true;
  if (client.clientAuthMethod === 'none' || token.clientId === undefined) return false;
  // Cached in the process (adapters/client-cache.ts): at most one query per client every few seconds.
  return Boolean(await ctx.oidc.provider.Client.find(token.clientId));
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
