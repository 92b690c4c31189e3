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
//
// How: the app's request prototype answers these four from ISSUER once a request is
// marked, and as koa does before (our own middleware, which checks the Host header,
// runs before the mark). Marking costs one property per request; an earlier version
// redefined the four properties on every request object, which made each one a slow
// dictionary-mode object and was the busiest function of ours in the token endpoint's
// profile.
import type Koa from 'koa';

const ISSUER_VIEW = Symbol('request seen as ISSUER');
type Marked = Koa.Request & { [ISSUER_VIEW]?: true };
type RequestPrototype = Koa['request'];

function inheritedGetter(object: object, name: string): (this: unknown) => unknown {
  for (let proto = Object.getPrototypeOf(object); proto; proto = Object.getPrototypeOf(proto)) {
    const getter = Object.getOwnPropertyDescriptor(proto, name)?.get;
    if (getter) return getter;
  }
  throw new Error(`koa's request has no ${name}`);
}

/** Makes `request` (the app's request prototype, app.request) answer from ISSUER for marked requests; returns the marking middleware. */
export function issuerOrigin(request: RequestPrototype, issuer: string): Koa.Middleware {
  const { protocol, host, hostname, origin } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  const views: Record<string, (request: Marked) => string> = {
    protocol: () => scheme,
    host: () => host,
    hostname: () => hostname,
    // The path and query as sent (an absolute-form target keeps only its path and query).
    href: (r) => {
      const target = URL.parse(r.originalUrl, origin);
      return `${origin}${target ? `${target.pathname}${target.search}` : '/'}`;
    },
  };
  for (const [name, view] of Object.entries(views)) {
    const koa = inheritedGetter(request, name);
    Object.defineProperty(request, name, {
      configurable: true,
      get(this: Marked) {
        return this[ISSUER_VIEW] ? view(this) : koa.call(this);
      },
    });
  }
  return function withIssuerOrigin(ctx, next) {
    (ctx.request as Marked)[ISSUER_VIEW] = true;
    return next();
  };
}
