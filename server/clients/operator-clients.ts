// Clients as the operator manages them (`enot-id client ...`, the admin API):
// validated by oidc-provider exactly as a registration would be (RFC 7591 §2,
// server/oidc/client-metadata-policy.ts), may carry operator-only metadata
// (first_party, pkce_exempt: server/oidc/operator-metadata.ts), stored through
// the Client adapter, so a delete is the RFC 7592 delete (adapters/index.ts).
import { randomBytes } from 'node:crypto';
import { errors, type Provider } from 'oidc-provider';
import { AppError } from '../errors/index.ts';
import { validateFirstPartyScopes } from '../oidc/operator-metadata.ts';
import { checkClientLinks } from '../oidc/client-metadata-policy.ts';

export type ClientMetadata = Record<string, unknown>;

/** Client metadata as a listing may show it: the secret is only ever shown once, at creation or rotation. */
export function withoutSecret({ client_secret: _secret, ...metadata }: ClientMetadata): ClientMetadata {
  return metadata;
}

/** A new client secret: 256 random bits (RFC 6749 §10.10, RFC 6819 §5.1.4.2.2). */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new client id; hex, so it never starts with "-" (it is typed on command lines). */
export function newClientId(): string {
  return randomBytes(16).toString('hex');
}

/** Throws 400 with oidc-provider's error code (e.g. invalid_redirect_uri) when the metadata is not valid. */
export async function validateClientMetadata(provider: Provider, metadata: ClientMetadata): Promise<void> {
  try {
    validateFirstPartyScopes(metadata);
    checkClientLinks(metadata, provider.issuer);
    await provider.Client.validate(metadata as Parameters<Provider['Client']['validate']>[0]);
  } catch (err) {
    if (err instanceof errors.OIDCProviderError) {
      throw new AppError(400, err.error, `invalid client metadata: ${err.error_description ?? err.message}`);
    }
    throw err;
  }
}
