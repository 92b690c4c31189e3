// Client metadata rules beyond oidc-provider's own schema. They run inside its
// validation (extraClientMetadata.validator, wired in provider.ts), so they hold
// for dynamic registration (RFC 7591), its updates (RFC 7592 §2.2), clients the
// CLI creates (Client.validate) and every stored client as it is loaded; a
// breach answers RFC 7591 §3.2.2 `invalid_redirect_uri` or `invalid_client_metadata`.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { logoProblem } from '../config/brand.ts';
import type { ClientCard } from '../../views/client-card.ts';

/** RFC 8252 §8.3: loopback, whatever the port. `localhost` too, as local development names it. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * Throws oidc-provider's InvalidClientMetadata (its code is `invalid_redirect_uri`
 * when the description starts with "redirect_uris") for metadata that breaks a rule.
 * Values of the wrong type are left to oidc-provider's own checks, which follow.
 */
export function checkClientMetadata(metadata: Record<string, unknown>, issuer: string): void {
  const issuerOrigin = new URL(issuer).origin;
  for (const uri of list(metadata.redirect_uris)) {
    const url = typeof uri === 'string' ? URL.parse(uri) : null;
    if (url?.protocol !== 'http:') continue;
    // RFC 9700 §4.1.1 / RFC 8252 §7.3: plain http only back to this machine. The
    // provider's own pages (server/account/) live on the issuer, whatever its scheme.
    if (isLoopback(url.hostname) || url.origin === issuerOrigin) continue;
    throw new errors.InvalidClientMetadata('redirect_uris must use https, or http only on a loopback address (RFC 8252 §7.3)');
  }
  // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential clients."
  if (metadata.token_endpoint_auth_method === 'none' && list(metadata.grant_types).includes('client_credentials')) {
    throw new errors.InvalidClientMetadata('client_credentials requires a confidential client; a client with token_endpoint_auth_method none cannot use it (RFC 6749 §4.4)');
  }
}

/** RFC 7591 §2 links a page shows beside the client's name. */
const LINKS = ['client_uri', 'policy_uri', 'tos_uri'] as const;

/**
 * Why a link of the client (client_uri, policy_uri, tos_uri) may not be shown, or
 * undefined. https only; plain http only while the issuer itself is a plain-http
 * loopback one (local development), where https cannot be expected.
 */
function linkProblem(uri: string, issuer: string): string | undefined {
  const url = URL.parse(uri);
  if (url?.protocol === 'https:') return undefined;
  const local = issuer.startsWith('http:') && isLoopback(new URL(issuer).hostname);
  if (url?.protocol === 'http:' && local) return undefined;
  return local ? 'must be an http or https URL' : 'must be an https URL';
}

/**
 * RFC 7591 §2 logo_uri, client_uri, policy_uri and tos_uri, as a registration or
 * an operator gives them. oidc-provider already refuses anything but http(s) URLs
 * for them (its WEB_URI metadata); here a logo must be https (a page never loads
 * an image over plain http) and a link https (http on a loopback http issuer).
 * Only for new metadata, never on loading a stored client: a stored value a rule
 * now refuses is left out of the pages (shownClientMetadata), the client still works.
 */
export function checkClientLinks(metadata: Record<string, unknown>, issuer: string): void {
  const logo = metadata.logo_uri;
  if (typeof logo === 'string' && logoProblem(logo)) {
    throw new errors.InvalidClientMetadata('logo_uri must be an https URL (a page never shows an image sent over plain http)');
  }
  for (const key of LINKS) {
    const value = metadata[key];
    const problem = typeof value === 'string' ? linkProblem(value, issuer) : undefined;
    if (problem) throw new errors.InvalidClientMetadata(`${key} ${problem}`);
  }
}

/**
 * What the sign-in and consent pages show of a client: each value only when it passes
 * the rules above (again, at render time: a client stored before a rule, or written
 * to storage directly, never puts a javascript: or plain-http link on a page).
 */
export function shownClientMetadata(client: Record<string, unknown> | undefined, issuer: string): ClientCard {
  const value = (key: string) => (typeof client?.[key] === 'string' ? (client[key] as string) : undefined);
  const link = (key: (typeof LINKS)[number]) => {
    const uri = value(key);
    return uri && !linkProblem(uri, issuer) ? new URL(uri).href : undefined;
  };
  const logo = value('logo_uri');
  return {
    logoUri: logo && !logoProblem(logo) ? logo : undefined,
    clientUri: link('client_uri'),
    policyUri: link('policy_uri'),
    tosUri: link('tos_uri'),
  };
}

/** Routes where a client registers or updates itself (RFC 7591, RFC 7592). */
const REGISTRATION_ROUTES = new Set(['registration', 'client_update']);

/**
 * RFC 7591 §2 metadata that oidc-provider does not know and would drop; kept as
 * strings. Listing properties is also what makes oidc-provider run the validator
 * at all: it calls it once per listed property, with the whole metadata.
 */
export const SOFTWARE_METADATA = ['software_id', 'software_version'];

/** extraClientMetadata.validator: synchronous, throws to refuse. */
export function clientMetadataValidator(issuer: string) {
  return (ctx: KoaContextWithOIDC | undefined, key: string, value: unknown, metadata: Record<string, unknown>): void => {
    if (SOFTWARE_METADATA.includes(key) && value !== undefined && typeof value !== 'string') {
      throw new errors.InvalidClientMetadata(`${key} must be a string`);
    }
    checkClientMetadata(metadata, issuer);
    // The operator's clients are checked by server/clients/operator-clients.ts.
    if (ctx?.oidc && REGISTRATION_ROUTES.has(ctx.oidc.route)) checkClientLinks(metadata, issuer);
  };
}
