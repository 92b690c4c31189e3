// An API that trusts Enot ID's access tokens and enforces the permissions that
// roles grant (issue 11 §5): what an API owner copies. Two ways to check a token:
//
//   GET  /orders  offline: the RFC 9068 JWT is verified against the issuer's JWKS
//                 (no call to Enot ID per request; a revoked token still passes
//                 until it expires), and needs `orders:read`.
//   POST /orders  introspection (RFC 7662) with this API's own client
//                 credentials (sees revocation at once; one call per request),
//                 and needs `orders:write`.
//
// Only node:http and jose. Answers follow RFC 6750 §3: 401 with a Bearer
// challenge for a missing or bad token, 403 insufficient_scope when the token
// lacks the permission.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

export interface OrdersApiOptions {
  /** Enot ID's issuer, e.g. http://localhost:3000. */
  issuer: string;
  /** This API's resource identifier (RFC 8707), the `aud` of its tokens: a RESOURCE_SERVERS identifier. */
  audience: string;
  /** This API's own client, registered as the resource's introspecting client; needed by POST /orders only. */
  clientId?: string;
  clientSecret?: string;
}

interface Order {
  id: number;
  item: string;
  placedBy: string;
}

/** A refusal as RFC 6750 §3 words it. */
class Refusal extends Error {
  readonly status: 400 | 401 | 403 | 503;
  readonly error: string | undefined;
  /** For insufficient_scope: the scope that would do (RFC 6750 §3). */
  readonly scope: string | undefined;
  constructor(status: 400 | 401 | 403 | 503, error: string | undefined, description: string, scope?: string) {
    super(description);
    this.status = status;
    this.error = error;
    this.scope = scope;
  }
}

const REALM = 'orders-api';

/** Enot ID could not be reached: 503, and the cause logged, not told. */
function unavailable(err: unknown): Refusal {
  console.error('orders API: Enot ID unreachable:', err);
  return new Refusal(503, undefined, 'the authorization server is unreachable; try again');
}

/** The bearer token of the Authorization header (RFC 6750 §2.1); undefined when there is none. */
function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header || !/^bearer /i.test(header)) return undefined;
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match) throw new Refusal(400, 'invalid_request', 'malformed Authorization header');
  return match[1];
}

function requireScope(scope: unknown, needed: string): void {
  // RFC 6749 §3.3: space-delimited scope tokens.
  const granted = typeof scope === 'string' ? scope.split(' ') : [];
  if (!granted.includes(needed)) throw new Refusal(403, 'insufficient_scope', `the token lacks ${needed}`, needed);
}

/**
 * A DPoP-bound token (RFC 9449, `cnf.jkt`) is only good with a proof of its key,
 * which this example does not check (§7.1): refused rather than accepted as Bearer.
 */
function refuseBound(cnf: unknown): void {
  if (cnf && typeof cnf === 'object' && 'jkt' in cnf) throw new Refusal(401, 'invalid_token', 'DPoP-bound tokens need a DPoP proof, which this API does not accept');
}

export function createOrdersApi(options: OrdersApiOptions): Server {
  const { issuer, audience } = options;
  const orders: Order[] = [];

  // OIDC Discovery / RFC 8414: where the JWKS and introspection endpoint are. Fetched once; a failure is retried.
  let metadata: Promise<{ jwks_uri: string; introspection_endpoint: string }> | undefined;
  function discover() {
    metadata ??= fetch(new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`))
      .then(async (res) => {
        if (!res.ok) throw new Error(`discovery answered ${res.status}`);
        return (await res.json()) as { jwks_uri: string; introspection_endpoint: string };
      })
      .catch((err: unknown) => {
        metadata = undefined;
        throw unavailable(err);
      });
    return metadata;
  }
  // jose fetches the keys once and again when a token names an unknown `kid` (key rotation).
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  /** RFC 9068 §4: signature by the issuer's key, `typ` at+jwt, iss, aud, exp. */
  async function verifyOffline(token: string): Promise<JWTPayload> {
    jwks ??= createRemoteJWKSet(new URL((await discover()).jwks_uri));
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ['ES256'] });
      return payload;
    } catch (err) {
      // A JWKS that cannot be fetched is our problem, not the token's.
      if (!(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout) throw unavailable(err);
      throw new Refusal(401, 'invalid_token', 'the access token is invalid, expired or not for this API');
    }
  }

  /** RFC 7662 §2: asks Enot ID, authenticated as this API's client (RFC 6749 §2.3.1). */
  async function introspect(token: string): Promise<Record<string, unknown>> {
    if (!options.clientId || !options.clientSecret) throw new Refusal(503, undefined, 'introspection is not configured');
    const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    const { introspection_endpoint } = await discover();
    const response = await fetch(introspection_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${form(options.clientId)}:${form(options.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    }).catch((err: unknown) => {
      throw unavailable(err);
    });
    if (!response.ok) throw new Refusal(503, undefined, `introspection answered ${response.status}`);
    const answer = (await response.json()) as Record<string, unknown>;
    // RFC 7662 §2.2: active is all that is promised; the audience check is ours
    // (a client serving several APIs may introspect tokens of each of them).
    if (answer.active !== true || ![answer.aud ?? []].flat().includes(audience)) {
      throw new Refusal(401, 'invalid_token', 'the access token is not active for this API');
    }
    return answer;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://orders.invalid');
    if (url.pathname !== '/orders' || !['GET', 'POST'].includes(req.method ?? '')) {
      return send(res, 404, { error: 'not_found' });
    }
    const token = bearerToken(req);
    // RFC 6750 §3.1: no token at all gets the challenge without an error code.
    if (!token) throw new Refusal(401, undefined, 'an access token is required');
    if (req.method === 'GET') {
      const claims = await verifyOffline(token);
      refuseBound(claims.cnf);
      requireScope(claims.scope, 'orders:read');
      return send(res, 200, { orders });
    }
    const info = await introspect(token);
    refuseBound(info.cnf);
    requireScope(info.scope, 'orders:write');
    const body = await readJson(req);
    const order: Order = {
      id: orders.length + 1,
      item: typeof body.item === 'string' ? body.item.slice(0, 200) : 'unnamed',
      // The person, or for client credentials the machine client.
      placedBy: String(info.sub ?? info.client_id),
    };
    orders.push(order);
    return send(res, 201, order);
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!(err instanceof Refusal)) {
        console.error(err);
        return send(res, 500, { error: 'server_error' });
      }
      if (err.status === 401 || err.status === 403 || err.status === 400) {
        const params = [`realm="${REALM}"`];
        if (err.error) params.push(`error="${err.error}"`, `error_description="${err.message}"`);
        if (err.scope) params.push(`scope="${err.scope}"`);
        res.setHeader('WWW-Authenticate', `Bearer ${params.join(', ')}`);
      }
      send(res, err.status, err.error ? { error: err.error, error_description: err.message } : { error_description: err.message });
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** A small JSON body; anything else counts as empty. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 16_384) throw new Refusal(400, 'invalid_request', 'body too large');
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
