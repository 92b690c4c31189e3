import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Context, Next } from 'koa';
import type { Logger } from '../logging/logger.ts';
import { InvalidRequest, PayloadTooLarge } from '../errors/index.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { loggedPath } from '../logging/logged-path.ts';
import { tracedRoute } from '../tracing/spans.ts';

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The route template for metrics: a name set by whoever answered (ctx.state.route),
 * oidc-provider's route name, the router's pattern, or "other" (bounded labels).
 */
function routeLabel(ctx: Context): string {
  if (typeof ctx.state.route === 'string') return ctx.state.route;
  const oidcRoute = (ctx as { oidc?: { route?: string } }).oidc?.route;
  if (oidcRoute) return oidcRoute;
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : 'other';
}

/** Request id (kept from X-Request-Id when sane), metrics, and one access-log line per request, without query strings or secrets in the path. */
export function requestContext(logger: Logger, metrics: Metrics) {
  return async function withRequestContext(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('x-request-id');
    const reqId = INCOMING_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.reqId = reqId;
    ctx.set('X-Request-Id', reqId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = performance.now() - started;
      const route = routeLabel(ctx);
      tracedRoute(ctx.method, route);
      metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      metrics.httpDuration.observe({ method: ctx.method, route }, ms / 1000);
      logger.info({ reqId, method: ctx.method, path: loggedPath(ctx.path), status: ctx.status, ms: Math.round(ms) }, 'request');
    }
  };
}

/**
 * HSTS (RFC 6797) for a year, sent when ISSUER is https: the server may itself speak plain
 * HTTP behind a TLS-terminating proxy, and browsers keep the header only from an https
 * answer anyway (§8.1), so what the public URL is decides. Without includeSubDomains:
 * ASVS V14.4.5 asks for it, but the issuer's subdomains are not ours to pin to https for
 * a year (an issuer on an apex name would lock every other host of the domain out of
 * plain HTTP); an operator who owns the whole domain sends it from the apex.
 */
const HSTS = 'max-age=31536000';

/** Headers every response gets (OWASP Secure Headers); oidc-provider adds its own where it needs more. */
export function securityHeaders(options: { https: boolean }) {
  return async function withSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    if (options.https) ctx.set('Strict-Transport-Security', HSTS);
    await next();
  };
}

// oidc-provider reads at most 56 KiB of a body and then answers 400; a declared
// larger body is refused up front with the status that says why (413, RFC 9110
// §15.5.14). A chunked body (RFC 9112 §7.1) declares no length, so its size shows
// only while it is read: what is read is counted, and a 400 given after reading
// past the limit becomes 413 too.
const BODY_LIMIT_BYTES = 56 * 1024;

export async function rejectOversizedBodies(ctx: Context, next: Next): Promise<void> {
  const declared = ctx.get('content-length');
  if (Number(declared || 0) > BODY_LIMIT_BYTES) throw new PayloadTooLarge();
  if (declared || !ctx.get('transfer-encoding')) return next();
  const bytesRead = countBytesRead(ctx.req);
  await next();
  if (ctx.status === 400 && bytesRead() > BODY_LIMIT_BYTES) throw new PayloadTooLarge();
}

/** Counts the bytes that readers take from `stream`, without reading any itself. */
function countBytesRead(stream: Readable): () => number {
  let bytes = 0;
  // Paused, a stream emits 'data' only for what a reader takes with read() (which
  // async iteration uses); without pause(), the listener would start the flow itself.
  stream.pause();
  stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
  return () => bytes;
}

// A response sent before the request's body was read to its end (a chunked body
// over oidc-provider's 56 KiB reader limit, refused part-way) leaves the rest of
// that body on the connection, and the next request on that keep-alive
// connection hung until the connection was reset (test/reliability/slow-clients).
// Such a connection is closed after the response instead. But a body that declared a
// length within the limit (a route that reads no body: OPTIONS, a 404) is read to its
// end and dropped, and the connection kept: closing a socket with unread data in it
// sends a TCP reset, which can reach the client before the answer does (ECONNRESET
// instead of a response; found by the fuzzer).
export async function closeIfBodyUnread(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.req.complete) return;
  const declared = Number(ctx.get('content-length') || Number.NaN);
  if (declared <= BODY_LIMIT_BYTES) ctx.req.resume();
  else ctx.set('Connection', 'close');
}

// oidc-provider builds URLs on the request's URL (ctx.href: protocol, Host
// header, path); a Host that is no host ("a b") makes `new URL` throw there,
// a 500. Refused up front.
export async function rejectInvalidHost(ctx: Context, next: Next): Promise<void> {
  if (!URL.canParse(ctx.href)) throw new InvalidRequest('the Host header or request URL is not valid');
  await next();
}

// RFC 6749 Appendix A: OAuth parameters are printable characters. A NUL cannot
// be stored either (PostgreSQL text and jsonb refuse it: a `state` kept in a
// session was a 500 in embedded mode), so a query that carries one is refused.
export async function rejectNulInQuery(ctx: Context, next: Next): Promise<void> {
  if (ctx.querystring.includes('%00') || ctx.querystring.includes('\u0000')) {
    throw new InvalidRequest('request parameters must not contain NUL characters');
  }
  await next();
}

// A browser's Origin is scheme://host[:port] or "null" (RFC 6454 §7). Anything
// else comes from a non-browser, and oidc-provider echoes Origin into
// Access-Control-Allow-Origin on its public routes: a 15 KiB junk value gave a
// response whose headers clients refuse to read. Such an Origin is ignored.
const MAX_ORIGIN_LENGTH = 2048;

export async function ignoreInvalidOrigin(ctx: Context, next: Next): Promise<void> {
  const origin = ctx.req.headers.origin;
  if (origin !== undefined && origin !== 'null' && (origin.length > MAX_ORIGIN_LENGTH || URL.parse(origin)?.origin !== origin)) {
    delete ctx.req.headers.origin;
  }
  await next();
}
