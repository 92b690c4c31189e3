// Client metadata rules beyond oidc-provider's own schema. They run inside its
// validation (extraClientMetadata.validator, wired in provider.ts), so they hold
// for dynamic registration (RFC 7591), its updates (RFC 7592 §2.2), clients the
// CLI creates (Client.validate) and every stored client as it is loaded; a
// breach answers RFC 7591 §3.2.2 `invalid_redirect_uri` or `invalid_client_metadata`.
import { errors } from 'oidc-provider';

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

/**
 * RFC 7591 §2 metadata that oidc-provider does not know and would drop; kept as
 * strings. Listing properties is also what makes oidc-provider run the validator
 * at all: it calls it once per listed property, with the whole metadata.
 */
export const SOFTWARE_METADATA = ['software_id', 'software_version'];

/** extraClientMetadata.validator: synchronous, throws to refuse. */
export function clientMetadataValidator(issuer: string) {
  return (_ctx: unknown, key: string, value: unknown, metadata: Record<string, unknown>): void => {
    if (SOFTWARE_METADATA.includes(key) && value !== undefined && typeof value !== 'string') {
      throw new errors.InvalidClientMetadata(`${key} must be a string`);
    }
    checkClientMetadata(metadata, issuer);
  };
}
