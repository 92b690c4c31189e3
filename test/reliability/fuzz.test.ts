// Bad input at volume: fast-check generates malformed requests — methods,
// paths, query strings, bodies, content types and encodings, headers, cookies,
// oversized values — against every endpoint (the protocol endpoints from
// discovery, the pages under /interaction, /account, /device, /qr, the app API,
// health and metrics), mixing garbage with real identifiers (a registered
// client, another with its registration access token, live tokens, a live
// interaction with its cookies, a signed-in session) so requests get past the
// first checks. Every answer must be below
// 500 and carry no stack trace or file path; afterwards the server answers
// normally. A second property sends raw, malformed HTTP/1.1 over a socket.
//
// Bounded in time: FUZZ_RUNS requests (default 10000) or FUZZ_SECONDS (default
// 30), whichever comes first; then FUZZ_RAW_RUNS raw requests (default 1000, at
// most 10 s). FUZZ_SEED replays a run (the seed is logged).
import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { machineClient, clientToken } from '../helpers/admin.ts';
import { beginAuthorization, registerClient, signIn, oidc, insecure, REDIRECT_URI, TEST_IAT } from '../helpers/oidc.ts';
import { createAccount } from '../../server/accounts/create-account.ts';
import { ROOT } from '../helpers/process.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 30);
const RAW_RUNS = Number(process.env.FUZZ_RAW_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
/** A request that gets no answer within this counts as hanging (a failure). */
const ANSWER_MS = 10_000;

const STACK_TRACE = /\n\s*at .+[:(].*\d+:\d+|^\s*at .+:\d+:\d+/m;
const FILE_PATH = new RegExp(`node_modules|file://|\\.ts:\\d+|${ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

let server: TestServer;
let rp: oidc.Configuration;
const user = { email: 'fuzz@example.com', password: 'a long and unguessable fuzz password' };

/** Real values the generator mixes in, refreshed while fuzzing. */
const real = {
  clientId: '',
  basic: '',
  accessToken: '',
  refreshToken: '',
  idToken: '',
  uid: '',
  interactionCookies: '',
  sessionCookies: '',
  /** A client of its own with its registration access token, for RFC 7592 GET, PUT and DELETE at /reg/{client}. */
  registeredClientId: '',
  registrationToken: '',
  /** A machine admin's token for the admin API, so fuzzed input reaches its validation. */
  adminToken: '',
};

function cookieHeader(jar: Map<string, { name: string; value: string }>) {
  return [...jar.values()].map((c) => `${c.name}=${c.value}`).join('; ');
}

async function freshInteraction() {
  const started = await beginAuthorization(rp, 'openid email');
  real.uid = new URL(started.page.url).pathname.split('/')[2] ?? '';
  real.interactionCookies = cookieHeader(started.browser.cookies);
}

async function freshSession() {
  const { tokens, browser } = await signIn(rp, { ...user, scope: 'openid email offline_access' });
  real.accessToken = tokens.access_token;
  real.refreshToken = tokens.refresh_token ?? '';
  real.idToken = tokens.id_token ?? '';
  real.sessionCookies = cookieHeader(browser.cookies);
}

/** Re-armed now and then: a fuzzed PUT rotates the registration access token, a DELETE ends the client. */
async function freshRegistration() {
  const response = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${TEST_IAT}` },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
  });
  const body = (await response.json()) as { client_id: string; registration_access_token: string };
  real.registeredClientId = body.client_id;
  real.registrationToken = body.registration_access_token;
}

test.before(async () => {
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  await createAccount(server.runtime.db, user);
  real.adminToken = await clientToken(await machineClient(server), server.issuer);
  rp = await registerClient(server.issuer, { scope: 'openid email offline_access api:read' });
  const { client_id, client_secret } = rp.clientMetadata();
  real.clientId = client_id;
  real.basic = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
  await freshSession();
  await freshInteraction();
  await freshRegistration();
});

test.after.always(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------- generators

const PARAMS = [
  'client_id', 'client_secret', 'response_type', 'response_mode', 'scope', 'redirect_uri', 'state', 'nonce', 'prompt', 'max_age',
  'code_challenge', 'code_challenge_method', 'code_verifier', 'code', 'grant_type', 'refresh_token', 'device_code', 'user_code',
  'token', 'token_type_hint', 'access_token', 'resource', 'audience', 'claims', 'request', 'request_uri', 'ui_locales', 'login_hint',
  'id_token_hint', 'post_logout_redirect_uri', 'logout', 'xsrf', 'csrf', 'identifier', 'password', 'via', 'email', 'phone', 'confirm',
  'abort', 'lang', 'saved', 'id', 'flow', 'redirect_uris', 'client_assertion', 'client_assertion_type', 'dpop_jkt',
  // Shapes a query parser may turn into arrays or objects, and prototype keys.
  'scope[]', 'client_id[]', 'a[b]', '__proto__', '__proto__[admin]', 'constructor[prototype][x]', 'hasOwnProperty', 'toString', '',
];

const TRICKY = [
  '', ' ', '%', '%zz', '%E0%A4%A', '%00', '%C0%AE%C0%AE', '\u0000', '\r\n', '../../etc/passwd', '..%2f..%2f', '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>', "' OR 1=1 --", '{}', '[]', '{"a":', 'null', 'true', '-1', '0', '1e309', 'NaN', '9'.repeat(40),
  '\u202e', '\ud800', '\uffff', '😀', 'ё', 'openid', 'openid openid', 'code', 'S256', 'plain', 'none', 'login consent none',
  'client_credentials', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'password',
  'https://evil.example/', 'javascript:alert(1)', 'data:text/html,x', REDIRECT_URI, `${REDIRECT_URI}#frag`, 'urn:enot-id:api',
  'eyJhbGciOiJub25lIn0.e30.', 'eyJhbGciOiJFUzI1NiJ9.e30.AAAA', 'a.b.c', 'Basic', 'Bearer', 'email', 'phone', '+1 555 0100', '+4915111112222',
  'fuzz@example.com', 'FUZZ@EXAMPLE.COM', 'a@b', '@', '123456', '000000',
];

/** A value the server knows (so requests get past the first checks). */
const realValue = fc
  .constantFrom<keyof typeof real>('clientId', 'accessToken', 'refreshToken', 'idToken', 'uid', 'registeredClientId', 'registrationToken')
  .map((k) => real[k]);

const oversized = fc.integer({ min: 1_000, max: 80_000 }).chain((n) => fc.constantFrom('a', '%', '0', 'é', '[').map((c) => c.repeat(n)));

const nasty: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 30, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 20, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 10, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 30, arbitrary: realValue },
  { weight: 10, arbitrary: realValue.map((v) => v.slice(0, -2) + 'xx') },
  { weight: 3, arbitrary: oversized },
);

/** `arbitrary` in `percent` % of cases, otherwise null (absent). */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(null) }, { weight: percent, arbitrary });
}

const params = fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...PARAMS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }), nasty), {
  maxLength: 10,
});

/** Percent-encodes bytes that are not unreserved; `raw` leaves printable ASCII (including & = # + %) as it is. */
function encode(value: string, raw: boolean): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (raw && byte > 0x20 && byte < 0x7f)) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function formOf(pairs: [string, string][], raw: boolean) {
  return pairs.map(([k, v]) => `${encode(k, raw)}=${encode(v, raw)}`).join('&');
}

const PATHS = [
  // oidc-provider (also read from discovery in before(), these are the same)
  'GET /auth', 'POST /auth', 'GET /auth/{uid}', 'POST /request', 'POST /token', 'POST /token/introspection', 'POST /token/revocation',
  'GET /me', 'POST /me', 'POST /reg', 'GET /reg/{client}', 'PUT /reg/{client}', 'DELETE /reg/{client}', 'GET /jwks',
  'GET /.well-known/openid-configuration', 'GET /.well-known/oauth-authorization-server', 'GET /session/end', 'POST /session/end',
  'POST /session/end/confirm', 'GET /session/end/success', 'POST /device/auth', 'GET /device', 'POST /device', 'GET /device/{uid}',
  'GET /device/qr.svg',
  // pages
  'GET /interaction/{uid}', 'POST /interaction/{uid}/login', 'POST /interaction/{uid}/code', 'GET /interaction/{uid}/register',
  'POST /interaction/{uid}/register', 'GET /interaction/{uid}/recover', 'POST /interaction/{uid}/recover',
  'GET /interaction/{uid}/flows/{id}', 'POST /interaction/{uid}/flows/{id}/resend', 'POST /interaction/{uid}/flows/{id}/code',
  'POST /interaction/{uid}/flows/{id}/password', 'POST /interaction/{uid}/confirm', 'POST /interaction/{uid}/abort',
  'POST /interaction/{uid}/qr', 'GET /interaction/{uid}/qr/{id}', 'GET /interaction/{uid}/qr/{id}/complete',
  'GET /account', 'GET /account/sign-in', 'GET /account/callback', 'POST /account/identifiers', 'GET /account/flows/{id}',
  'POST /account/flows/{id}/resend', 'POST /account/flows/{id}/code', 'GET /account/reauth', 'POST /account/reauth/password',
  'POST /account/reauth/code', 'POST /account/identifiers/remove', 'POST /account/language', 'GET /account/password',
  'POST /account/password', 'POST /account/password/remove', 'GET /account/sessions', 'POST /account/sessions/end',
  'POST /account/sessions/end-others', 'POST /account/apps/revoke', 'GET /account/delete', 'POST /account/delete', 'GET /qr/{id}', 'POST /qr/{id}/approve', 'POST /qr/{id}/deny',
  'POST /api/qr/scan', 'POST /api/qr/approve', 'POST /api/qr/deny',
  // admin API (server/admin/)
  'GET /api/admin/openapi.json', 'GET /api/admin/accounts', 'GET /api/admin/accounts/{id}', 'POST /api/admin/accounts/{id}/block',
  'POST /api/admin/accounts/{id}/unblock', 'PUT /api/admin/accounts/{id}/roles', 'POST /api/admin/accounts', 'PATCH /api/admin/accounts/{id}',
  'DELETE /api/admin/accounts/{id}', 'POST /api/admin/accounts/{id}/sessions/revoke', 'GET /api/admin/accounts/{id}/sessions',
  'DELETE /api/admin/accounts/{id}/sessions/{id}', 'GET /api/admin/accounts/{id}/grants', 'DELETE /api/admin/accounts/{id}/grants/{id}',
  'GET /api/admin/roles', 'POST /api/admin/roles', 'GET /api/admin/roles/{id}', 'PATCH /api/admin/roles/{id}', 'DELETE /api/admin/roles/{id}',
  'PUT /api/admin/roles/{id}/permissions', 'GET /api/admin/resources', 'POST /api/admin/resources', 'GET /api/admin/resources/{id}',
  'PATCH /api/admin/resources/{id}', 'DELETE /api/admin/resources/{id}', 'POST /api/admin/resources/{id}/permissions',
  'PATCH /api/admin/resources/{id}/permissions/{id}', 'DELETE /api/admin/resources/{id}/permissions/{id}', 'GET /api/admin/clients', 'POST /api/admin/clients', 'GET /api/admin/clients/{id}',
  'PATCH /api/admin/clients/{id}', 'DELETE /api/admin/clients/{id}', 'POST /api/admin/clients/{id}/secret', 'PUT /api/admin/clients/{id}/roles',
  'GET /api/admin/keys', 'POST /api/admin/keys/rotate', 'GET /api/admin/audit', 'POST /api/admin/initial-access-tokens',
  'POST /api/admin/mailings', 'GET /api/admin/mailings/{id}', 'GET /api/admin/mailings/{id}/recipients', 'POST /api/admin/mailings/{id}/preview', 'POST /api/admin/mailings/{id}/start',
  'POST /api/admin/mailings/{id}/pause', 'POST /api/admin/mailings/{id}/resume', 'POST /api/admin/mailings/{id}/cancel',
  'GET /unsubscribe/{id}', 'POST /unsubscribe/{id}',
  // operations
  'GET /healthz', 'GET /readyz', 'GET /metrics',
];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'SEARCH'];

const segment = fc.oneof(
  { weight: 3, arbitrary: realValue },
  { weight: 3, arbitrary: nasty.map((v) => encode(v.slice(0, 2000), false)) },
  { weight: 1, arbitrary: nasty.map((v) => encode(v.slice(0, 2000), true).replaceAll('?', '%3F').replaceAll('#', '%23')) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '..', '.', '', '%2F', '%00', 'a/b', '%252F') },
);

const route = fc.record({
  template: fc.constantFrom(...PATHS),
  id: segment,
  uid: fc.oneof({ weight: 3, arbitrary: fc.constant('{real}') }, { weight: 2, arbitrary: segment }),
  suffix: fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/..', '/x', '%2F', ';jsessionid=1') }),
  otherMethod: sometimes(fc.constantFrom(...METHODS), 15),
});

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded; charset=utf-16',
  'application/json', 'application/json; charset=latin1', 'application/jwt', 'text/plain', 'text/html', 'multipart/form-data; boundary=x',
  'multipart/form-data', 'application/xml', '*/*', 'application/x-www-form-urlencoded, application/json', ';;;', 'x',
];

const body = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(params, fc.boolean()).map(([p, raw]) => Buffer.from(formOf(p, raw))) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
  { weight: 1, arbitrary: params.map((p) => Buffer.from(JSON.stringify(Object.fromEntries(p)))) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from('\xff\xfe\x00a\x00=\x00b', 'latin1'), Buffer.from('a=%FF%FE&b=\u00e9', 'latin1'), Buffer.from('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--')) },
  { weight: 1, arbitrary: fc.integer({ min: 50 * 1024, max: 400 * 1024 }).map((n) => Buffer.alloc(n, 'a=b&')) },
  { weight: 3, arbitrary: fc.constant(Buffer.alloc(0)) },
);

/** Header values Node's client accepts: tab, printable ASCII and latin-1. */
const headerValue = fc.oneof(
  { weight: 4, arbitrary: nasty.map((v) => Buffer.from(v, 'utf8').toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, '').slice(0, 20_000)) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'\t !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~aZ09\x80\xff'), maxLength: 60 }) },
);

const EXTRA_HEADERS = [
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'origin', 'referer', 'dpop', 'accept-language',
  'accept-encoding', 'content-language', 'if-none-match', 'if-modified-since', 'range', 'host', 'user-agent', 'x-http-method-override',
  'access-control-request-method', 'access-control-request-headers', 'sec-fetch-site', 'sec-fetch-mode', 'forwarded', 'cache-control',
];

const headers = fc.record({
  accept: sometimes(fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*', 'text/plain', 'application/json;q=0, text/html;q=0', 'image/png'), headerValue), 75),
  contentType: sometimes(fc.oneof({ weight: 8, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: headerValue }), 80),
  contentEncoding: sometimes(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-nope', 'gzip, gzip', 'GZIP'), 10),
  // Compress the body for real (with or without saying so), or a small bomb (5 MB of zeros).
  compress: fc.oneof({ weight: 90, arbitrary: fc.constant('no') }, { weight: 10, arbitrary: fc.constantFrom('gzip', 'deflate', 'bomb') }),
  authorization: sometimes(
    fc.oneof(
      fc.constant('{basic}'),
      fc.constant('{bearer}'),
      fc.constant('{registration}'),
      fc.constant('{admin}'),
      fc.tuple(fc.constantFrom('Basic ', 'Bearer ', 'DPoP ', 'basic ', ''), headerValue).map(([s, v]) => s + v),
      fc.tuple(nasty, nasty).map(([a, b]) => `Basic ${Buffer.from(`${a}:${b}`).toString('base64')}`),
      fc.tuple(fc.constantFrom(...['', 'x']), nasty).map(([s, v]) => `Basic ${Buffer.from(`${real.clientId}${s}:${v}`).toString('base64')}`),
    ),
    50,
  ),
  cookie: sometimes(
    fc.oneof(
      fc.constant('{interaction}'),
      fc.constant('{session}'),
      fc.constant('{both}'),
      fc.constant('{tampered}'),
      fc.tuple(fc.constantFrom('_session', '_session.sig', '_interaction', '_interaction_resume', '_interaction.sig', 'enot_after_sign_in', 'x'), headerValue).map(([n, v]) => `${n}=${v}`),
      headerValue,
    ),
    50,
  ),
  extra: fc.array(fc.tuple(fc.constantFrom(...EXTRA_HEADERS), headerValue), { maxLength: 3 }),
  chunked: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const fuzzRequest = fc.record({ route, query: sometimes(fc.tuple(params, fc.boolean()), 50), body, headers });

type FuzzRequest = typeof fuzzRequest extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------- sending

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function build(r: FuzzRequest): Sent {
  const [defaultMethod, template] = r.route.template.split(' ') as [string, string];
  const uid = r.route.uid === '{real}' ? real.uid : r.route.uid;
  let path = template.replace('{uid}', uid).replace('{client}', r.route.id).replace('{id}', r.route.id) + r.route.suffix;
  if (!path.startsWith('/')) path = `/${path}`;
  // The fuzz's own relying party must live on: with the admin token a fuzzed call could delete it or rotate its secret.
  if (path.startsWith('/api/admin/clients/') && real.clientId) path = path.replaceAll(real.clientId, 'not-the-fuzz-rp');
  if (r.query) path += `?${formOf(r.query[0], r.query[1])}`;
  const method = r.route.otherMethod ?? defaultMethod;

  const h: Record<string, string> = {};
  const hd = r.headers;
  if (hd.accept !== null) h.accept = hd.accept;
  if (hd.contentType !== null) h['content-type'] = hd.contentType;
  if (hd.contentEncoding !== null) h['content-encoding'] = hd.contentEncoding;
  if (hd.authorization !== null) {
    h.authorization = hd.authorization
      .replace('{basic}', real.basic)
      .replace('{bearer}', `Bearer ${real.accessToken}`)
      .replace('{registration}', `Bearer ${real.registrationToken}`)
      .replace('{admin}', `Bearer ${real.adminToken}`);
  }
  if (hd.cookie !== null) {
    const tampered = real.sessionCookies.replace(/=(.)/g, (_, c: string) => `=${c === 'a' ? 'b' : 'a'}`);
    h.cookie = hd.cookie
      .replace('{interaction}', real.interactionCookies)
      .replace('{session}', real.sessionCookies)
      .replace('{both}', `${real.interactionCookies}; ${real.sessionCookies}`)
      .replace('{tampered}', tampered);
  }
  for (const [name, value] of hd.extra) h[name] = value;

  let payload = r.body;
  if (hd.compress === 'gzip') payload = gzipSync(payload);
  else if (hd.compress === 'deflate') payload = deflateSync(payload);
  else if (hd.compress === 'bomb') {
    payload = gzipSync(Buffer.alloc(5 * 1024 * 1024));
    h['content-encoding'] = 'gzip';
  }
  if (method === 'GET' || method === 'HEAD') payload = payload.length && hd.chunked ? payload : Buffer.alloc(0);
  if (payload.length && hd.chunked) h['transfer-encoding'] = 'chunked';
  return { method, path, headers: h, body: payload };
}

interface Answer {
  status: number;
  contentType: string;
  allow: string | undefined;
  text: string;
}

const port = () => Number(new URL(server.url).port);

function send(s: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: port(), method: s.method, path: s.path, headers: s.headers, agent: false });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${ANSWER_MS} ms`)), ANSWER_MS);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (d: Buffer) => chunks.push(d));
      response.on('end', () => {
        clearTimeout(timer);
        const { 'content-type': contentType = '', allow } = response.headers;
        resolve({ status: response.statusCode!, contentType, allow, text: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    request.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (s.body.length) request.end(s.body);
    else request.end();
  });
}

// Node's header limit (16 KiB, --max-http-header-size) and the body limit (56 KiB).
const HEADER_LIMIT = 16 * 1024;
const BODY_LIMIT = 56 * 1024;
let resetOversized = 0;

function tooBig(s: Sent): boolean {
  const headerBytes = s.method.length + Buffer.byteLength(s.path) + Object.entries(s.headers).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v, 'latin1') + 4, 0);
  return headerBytes > HEADER_LIMIT - 512 || s.body.length > BODY_LIMIT;
}

function describe(s: Sent, a?: Answer) {
  const headerText = Object.entries(s.headers).map(([k, v]) => `${k}: ${v.slice(0, 120)}`).join(' | ');
  return `${s.method} ${s.path.slice(0, 300)} [${headerText}] body ${s.body.length} B ${s.body.subarray(0, 120).toString('latin1')}` +
    (a ? ` -> ${a.status} ${a.text.slice(0, 400)}` : '');
}

// Methods the server implements somewhere. For any other method, 501 is the
// answer RFC 9110 §15.6.2 prescribes ("does not recognize the request method"),
// not a server failure: it is the one 5xx allowed, and only for those methods.
const IMPLEMENTED = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
let unrecognisedMethod = 0;

function check(s: Sent, a: Answer) {
  if (a.status === 501 && !IMPLEMENTED.has(s.method)) unrecognisedMethod++;
  else if (a.status >= 500) throw new Error(`5xx: ${describe(s, a)}`);
  if (STACK_TRACE.test(a.text)) throw new Error(`stack trace: ${describe(s, a)}`);
  if (FILE_PATH.test(a.text)) throw new Error(`file path: ${describe(s, a)}`);
  // Refused methods are answered in the error shape (JSON or a page), not koa's plain
  // text; a 405 says which methods the resource takes (RFC 9110 §15.5.6).
  if ((a.status === 405 || a.status === 501) && s.method !== 'HEAD' && !/^(application\/json|text\/html)/.test(a.contentType)) {
    throw new Error(`${a.status} as ${a.contentType || 'no content type'}: ${describe(s, a)}`);
  }
  if (a.status === 405 && !a.allow) throw new Error(`405 without Allow: ${describe(s, a)}`);
}

// ---------------------------------------------------------------- raw HTTP

const RAW_TEMPLATES = [
  'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials',
  'POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n5\r\na=b&c\r\n0\r\n\r\n',
  'GET /interaction/x HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n',
  'POST /token/introspection HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\ntoken=x',
];

const RAW_MUTATIONS: ((s: string, r: string) => string)[] = [
  (s, r) => s.replace('HTTP/1.1', r), // bad version
  (s, r) => s.replace(/^[A-Z]+/, r), // bad method
  (s, r) => s.replace(/ \/[^ ]*/, ` ${r}`), // bad target
  (s, r) => s.replace('\r\n\r\n', `\r\nX-Junk: ${r}\r\n\r\n`), // odd header value
  (s, r) => s.replace('\r\n\r\n', `\r\n${r}\r\n\r\n`), // odd header line
  (s) => s.replace('\r\n\r\n', '\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\n'), // conflicting lengths
  (s) => s.replace('\r\n\r\n', '\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n'), // TE + CL (smuggling)
  (s) => s.replace('\r\n\r\n', '\r\nX-Folded: a\r\n b\r\n\r\n'), // obsolete line folding
  (s) => s.replaceAll('\r\n', '\n'), // bare LF
  (s, r) => s + r, // trailing garbage (a pipelined "request")
  (s) => s.replace('\r\n\r\n', `\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), // headers over the limit
  (s, r) => s.replace('Host: x', `Host: ${r}`),
];

const rawRequest = fc
  .tuple(fc.constantFrom(...RAW_TEMPLATES), fc.integer({ min: 0, max: RAW_MUTATIONS.length - 1 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 64 }), fc.boolean())
  .map(([template, m, r, bytes, appendBytes]) => {
    const text = RAW_MUTATIONS[m]!(template, r);
    const buffer = Buffer.from(text, 'utf8');
    return appendBytes ? Buffer.concat([buffer, Buffer.from(bytes)]) : buffer;
  });

/** Writes raw bytes, half-closes, returns the status of the first answer (0 when the server closed without one). */
function sendRaw(bytes: Buffer): Promise<{ status: number; text: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port(), '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      finish(true);
    }, 3_000);
    function finish(timedOut: boolean) {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text, timedOut });
    }
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish(false) : reject(err)));
    socket.end(bytes);
  });
}

// ---------------------------------------------------------------- tests

test.serial('fuzz: malformed requests to every endpoint get a 4xx (or 2xx/3xx), never a 5xx or a stack trace', async (t) => {
  // Protocol endpoints from discovery are all in PATHS (the fuzz would miss an endpoint added later otherwise).
  const discovery = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  const listed = new Set(PATHS.map((p) => p.split(' ')[1]));
  const endpoints = Object.entries(discovery)
    .filter(([k, v]) => (k.endsWith('_endpoint') || k === 'jwks_uri') && typeof v === 'string')
    .map(([, v]) => new URL(v as string).pathname);
  t.deepEqual(endpoints.filter((p) => !listed.has(p)), [], 'every discovered endpoint is fuzzed');
  // And every admin API route from its OpenAPI document, with its method.
  const adminDoc = (await (await fetch(`${server.url}/api/admin/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  const fuzzed = new Set(PATHS);
  const adminRoutes = Object.entries(adminDoc.paths).flatMap(([p, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} /api/admin${p.replace(/\{[^}]+\}/g, '{id}')}`));
  t.true(adminRoutes.length > 40);
  t.deepEqual(adminRoutes.filter((r) => !fuzzed.has(r)), [], 'every admin API route is fuzzed');

  let tried = 0;
  const statuses = new Map<number, number>();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(fuzzRequest, async (r) => {
      const s = build(r);
      tried++;
      // Keep the real interaction and session alive: fuzzing may finish or end them.
      if (tried % 250 === 0) await Promise.all([freshInteraction(), freshRegistration()]);
      if (tried % 1000 === 0) await freshSession();
      let answer: Answer;
      try {
        answer = await send(s);
      } catch (err) {
        // Refusing an oversized request, the server may close before the client
        // has finished writing it, so the client sees a reset instead of the
        // 413/431 (HTTP/1.1 has no way around that race). Only then is it fine.
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'ECONNRESET' || code === 'EPIPE') && tooBig(s)) {
          resetOversized++;
          return;
        }
        throw new Error(`no answer (${(err as Error).message}): ${describe(s)}`);
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      check(s, answer);
    }),
    { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true, includeErrorInReport: true },
  );
  const seconds = (performance.now() - started) / 1000;
  const byStatus = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  t.log(`${tried} fuzzed requests in ${seconds.toFixed(1)} s (seed ${SEED}): ${byStatus}; of the 501s, ${unrecognisedMethod} for unrecognised methods (the only 5xx allowed); ${resetOversized} oversized requests cut off while being sent`);
  t.is(statuses.get(501) ?? 0, unrecognisedMethod, 'no 501 for an implemented method');
  t.true(tried >= Math.min(RUNS, 500), `enough requests were tried (${tried})`);
  // The fuzz reached past the front door: not everything was a 4xx.
  t.true([...statuses.keys()].some((s) => s < 400), 'some requests were accepted');
});

test.serial('fuzz: malformed raw HTTP/1.1 is refused without a 5xx or a stack trace', async (t) => {
  let tried = 0;
  let unanswered = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(rawRequest, async (bytes) => {
      tried++;
      const answer = await sendRaw(bytes);
      if (answer.timedOut || answer.status === 0) unanswered++;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const what = `${JSON.stringify(bytes.subarray(0, 200).toString('latin1'))} -> ${answer.text.slice(0, 300)}`;
      if (answer.status >= 500) throw new Error(`5xx: ${what}`);
      if (STACK_TRACE.test(answer.text) || FILE_PATH.test(answer.text)) throw new Error(`stack trace or path: ${what}`);
    }),
    { numRuns: RAW_RUNS, seed: SEED, interruptAfterTimeLimit: 10_000, markInterruptAsFailure: false, endOnFailure: true, includeErrorInReport: true },
  );
  const byStatus = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s || 'closed'}×${n}`).join(' ');
  t.log(`${tried} raw requests (seed ${SEED}): ${byStatus}; ${unanswered} closed or timed out without an answer`);
  t.true(tried > 0);
});

test.serial('after the fuzz, the server still answers normally', async (t) => {
  const ready = await fetch(`${server.url}/readyz`);
  t.is(ready.status, 200);
  const discovered = await oidc.discovery(new URL(server.issuer), real.clientId, undefined, undefined, insecure);
  t.is(discovered.serverMetadata().issuer, server.issuer);
  const grant = await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  t.truthy(grant.access_token);
  const introspection = await oidc.tokenIntrospection(rp, grant.access_token);
  t.true(introspection.active);
  // A whole sign-in through the pages still works.
  const { tokens } = await signIn(rp, { ...user, scope: 'openid email' });
  t.is(tokens.claims()?.email, user.email);
});
