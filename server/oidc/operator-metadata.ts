// Client metadata only an operator may set (the CLI, the account page's own
// client, later the admin API), never a client itself through dynamic
// registration (RFC 7591) or its update (RFC 7592):
//
// - `first_party`: a client the operator runs (its own mobile app). Only such a
//   client may obtain tokens for Enot ID's own API (ISSUER/api: QR approval).
//   A third-party client holding such a token could approve a QR sign-in of the
//   attacker's browser as the person: an account takeover (RFC 9700 §2.3,
//   "privileges of access tokens"; RFC 6819 §5.1.5.1, limited scope).
// - `pkce_exempt`: lets a confidential client leave out PKCE when it sends a
//   `nonce` (OAuth 2.1 §7.5.1: nonce gives the same protection against code
//   injection for OpenID clients). PKCE is otherwise required for every client
//   (RFC 9700 §2.1.1); the exemption exists so the OpenID certification plans,
//   which send PKCE in one module only, can run.
// - `skip_consent`: a first-party client (only together with `first_party`) whose
//   authorization requests need no consent page: the operator vouches for it, as
//   for the account page's own client (server/oidc/existing-grant.ts). prompt=consent
//   still shows the page (OIDC Core §3.1.2.1), and a native app is still asked
//   (oidc-provider's native_client_prompt, RFC 8252 §8.6: another app can claim
//   its redirect URI).
import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';

export const OPERATOR_METADATA = ['first_party', 'pkce_exempt', 'skip_consent'] as const;

/** Scopes of Enot ID's own APIs (ISSUER/api, ISSUER/admin); only first-party clients may register or receive them. */
export const FIRST_PARTY_SCOPES = ['qr-login', 'admin'] as const;

/** Routes where a client speaks for itself about its metadata. */
const SELF_SERVICE_ROUTES = new Set(['registration', 'client_update']);

export function isFirstParty(client: Client | undefined): boolean {
  return (client as { first_party?: unknown } | undefined)?.first_party === true;
}

/** A first-party client the operator let skip the consent page. */
export function skipsConsent(client: Client | undefined): boolean {
  return isFirstParty(client) && (client as { skip_consent?: unknown } | undefined)?.skip_consent === true;
}

/**
 * oidc-provider's `extraClientMetadata.validator`: called once per operator key
 * whenever client metadata is built: at registration (ctx on the `registration`
 * or `client_update` route), from the CLI's `Client.validate`, and when a stored
 * client is loaded (no ctx). Must be synchronous.
 */
export function validateOperatorMetadata(
  ctx: KoaContextWithOIDC | undefined,
  key: string,
  value: unknown,
  metadata: Record<string, unknown>,
): void {
  const selfService = ctx?.oidc !== undefined && SELF_SERVICE_ROUTES.has(ctx.oidc.route);
  if (selfService && key === OPERATOR_METADATA[0]) validateFirstPartyScopes(metadata);
  if (value === undefined) return;
  if (typeof value !== 'boolean') throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
  if (selfService) {
    // An RFC 7592 update may repeat what the operator set; it may not change it.
    const current = (ctx!.oidc.client as unknown as Record<string, unknown> | undefined)?.[key];
    if (ctx!.oidc.route !== 'client_update' || current !== value) {
      throw new errors.InvalidClientMetadata(`${key} can only be set by the operator`);
    }
  }
  if (key === 'skip_consent' && value && metadata.first_party !== true) {
    throw new errors.InvalidClientMetadata('skip_consent is only for first-party clients: set first_party too');
  }
  if (key === 'pkce_exempt' && value && metadata.token_endpoint_auth_method === 'none') {
    throw new errors.InvalidClientMetadata('pkce_exempt is only for confidential clients (OAuth 2.1 §7.5.1)');
  }
}

/**
 * New clients (registration, RFC 7592 update, the CLI) may list first-party
 * scopes only when first-party, so a third-party client never even lists them.
 * Stored clients are not re-checked when loaded: a client registered before
 * this rule still loads, and ISSUER/api refuses it anyway (resource-servers.ts).
 */
export function validateFirstPartyScopes(metadata: Record<string, unknown>): void {
  if (metadata.first_party === true) return;
  const scopes = typeof metadata.scope === 'string' ? metadata.scope.split(' ') : [];
  const firstParty = scopes.filter((s) => (FIRST_PARTY_SCOPES as readonly string[]).includes(s));
  if (firstParty.length) throw new errors.InvalidClientMetadata(`scope ${firstParty.join(' ')} is only for first-party clients`);
}

/**
 * PKCE (RFC 7636) is required unless the operator exempted this confidential
 * client and the request carries a nonce (OpenID Connect requests only).
 */
export function pkceRequired(ctx: KoaContextWithOIDC, client: Client): boolean {
  const exempt = (client as { pkce_exempt?: unknown }).pkce_exempt === true && client.clientAuthMethod !== 'none';
  if (!exempt) return true;
  const params = ctx.oidc.params as { nonce?: unknown; scope?: unknown } | undefined;
  const openid = typeof params?.scope === 'string' && params.scope.split(' ').includes('openid');
  return !(openid && typeof params?.nonce === 'string' && params.nonce.length > 0);
}
