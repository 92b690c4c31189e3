// RFC 7591 §2: `token_endpoint_auth_method` is the one method a client
// authenticates with. oidc-provider 9 (lib/shared/client_auth.js) accepts a
// secret sent either way, in the Authorization header (client_secret_basic) or
// in the body (client_secret_post), from a client registered for either. Here a
// secret sent the other way is refused with `invalid_client` (RFC 6749 §5.2),
// at every endpoint that authenticates clients (token, introspection,
// revocation, device authorization).
//
// Why a wrapper around Client#compareClientSecret: oidc-provider offers no hook
// between loading the client and checking its secret. Its `assign.client` event
// is emitted on the per-request context (ctx.oidc), which exists only inside its
// router, after every provider.use middleware has run; reading the body ahead of
// it would take the request body from it. compareClientSecret is called in that
// one place, only for the two secret methods, once the client is loaded; the
// request it belongs to is oidc-provider's async-local `Provider.ctx`.
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { traced } from '../tracing/spans.ts';

interface SecretClient {
  clientAuthMethod: string;
  compareClientSecret(secret: string): boolean | Promise<boolean>;
}

export function enforceRegisteredSecretMethod(provider: Provider): void {
  const prototype = provider.Client.prototype as unknown as SecretClient;
  const compare = prototype.compareClientSecret;
  prototype.compareClientSecret = function compareOnlyByRegisteredMethod(this: SecretClient, secret: string) {
    const ctx = (Provider as unknown as { ctx?: KoaContextWithOIDC }).ctx;
    if (ctx?.oidc) {
      // client_auth.js takes the body's client_secret when there is one, else the Basic header.
      const sentInBody = Boolean((ctx.oidc.params as { client_secret?: unknown } | undefined)?.client_secret);
      const used = sentInBody ? 'client_secret_post' : 'client_secret_basic';
      if (used !== this.clientAuthMethod) {
        throw new errors.InvalidClientAuth(`the client authenticated with ${used}, it is registered for ${this.clientAuthMethod}`);
      }
    }
    return traced('oidc.client_authentication', async () => compare.call(this, secret), { 'oauth.client_auth_method': this.clientAuthMethod });
  };
}
