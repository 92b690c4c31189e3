// oidc-provider builds every absolute URL it emits (discovery, the device flow's
// verification_uri, registration_client_uri, the interaction's return URL, form
// actions) from the request: `ctx.oidc.urlFor` resolves on `ctx.href`, that is the
// Host header (X-Forwarded-Host and -Proto when the proxy is trusted) or an
// absolute-form request target. All of these are written by the client, and a
// shared cache would hand a poisoned discovery document, pointing relying parties
// at someone else's endpoints and keys, to everyone. OIDC Discovery §4.3: the
// issuer, and so its endpoints, are exactly ISSUER. On the context oidc-provider
// runs on, protocol, host and href are therefore the issuer's, whatever was sent.
//
// `secure` follows `protocol`, so an https ISSUER also gives oidc-provider's
// cookies the Secure attribute behind a TLS-terminating proxy. The Origin header
// (koa's ctx.origin) is left alone: CORS needs the caller's.
//
// A path in ISSUER (https://example.com/id) is not supported: the app serves
// from the root, oidc-provider is mounted at "/", and our pages link to root
// paths (/interaction/...). Only the origin of ISSUER is used here.
import type { Context, Next } from 'koa';

export function issuerOrigin(issuer: string) {
  const { protocol, host, hostname, origin } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return async function withIssuerOrigin(ctx: Context, next: Next): Promise<void> {
    const { request } = ctx;
    // The path and query as sent (an absolute-form target keeps only its path and query).
    const target = URL.parse(request.originalUrl, origin);
    const pathAndQuery = target ? `${target.pathname}${target.search}` : '/';
    Object.defineProperties(request, {
      protocol: { value: scheme, configurable: true },
      host: { value: host, configurable: true },
      hostname: { value: hostname, configurable: true },
      href: { value: `${origin}${pathAndQuery}`, configurable: true },
    });
    await next();
  };
}
