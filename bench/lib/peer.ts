// The peer in the same run: better-auth (bench/peers/better-auth.ts) on the
// same PostgreSQL and Redis as Enot ID's server mode, in a schema and under a
// key prefix of its own, measured on the scenarios it supports with the same
// load helpers, right after each of Enot ID's scenarios in the same mode
// (bench/run.ts calls startPeer, then measure after each scenario, then
// finish). Every shared scenario gets a ratio Enot ID / peer; a scenario the
// peer cannot serve is reported as such, never as a zero.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type autocannon from 'autocannon';
import knexFactory from 'knex';
import { removeKeys } from './environment.ts';
import { FORM, FlowError, basicAuth, pkce, runFlows, type Flow, type HttpRequest, type HttpResponse, type TokenResponse } from './flows.ts';
import { measureFlows, measureRequests, type LoadOptions, type Measured } from './load.ts';
import type { PacedRequest } from './paced.ts';
import { ROOT, freePort, rssMb, rssSampler, runScript, startReference, type Running } from './processes.ts';
import type { ScenarioResult } from './report.ts';
import { JWT_RESOURCE, PASSWORD, REDIRECT_URI, passwordAccount } from './settings.ts';

type Request = autocannon.Request;

// Their package.json files are not exported: read from node_modules.
const versionOf = (name: string) => (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
export const PEER_NAME = `better-auth ${versionOf('better-auth')} + @better-auth/oauth-provider ${versionOf('@better-auth/oauth-provider')}`;

/** better-auth's default basePath (bench/peers/better-auth.ts): every endpoint, the issuer and its metadata live under it. */
const BASE = '/api/auth';

export interface PeerScenario {
  id: string;
  number: number;
  title: string;
  /** Enot ID's rate in the same mode (its scenario row). */
  enotRate?: number;
  peer?: Measured;
  /** Enot ID / peer, by the scenario's own rate (requests or sign-ins per second). */
  ratio?: number;
  /** Why the peer has no figure for this scenario. */
  unsupported?: string;
  note?: string;
}

export interface PeerResult {
  peer: string;
  /** Why the peer did not run in this mode. */
  skipped?: string;
  storage?: string;
  scenarios: PeerScenario[];
  memory?: { idleMb: number; underLoadMb: number };
  setupMs?: number;
  notes: string[];
}

export interface PeerDeps {
  urls: { databaseUrl?: string; redisUrl?: string };
  /** The ids of Enot ID's scenarios asked for in this mode: the peer runs only if one of them is one it shares. */
  asked: readonly string[];
  load(url: string, connections?: number): LoadOptions;
  flowConnections: number;
  connections: number;
  passwordAccounts: number;
  /** Hands the peer's process to the run's clean-up. */
  track<T extends Running>(running: Promise<T>): Promise<T>;
  /** Registers (and, with `false`, removes) what an interrupted run must still undo. */
  onInterrupt(undo: () => Promise<unknown>, add: boolean): void;
  log(message: string): void;
}

interface PeerTarget {
  origin: string;
  clientId: string;
  clientSecret: string;
}

/** better-auth limits requests per client address (on in production, counters in Redis): the load comes from many addresses. */
const addressFor = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
let addresses = 1 << 20;
const nextAddress = () => addressFor(addresses++ % (1 << 24));

function tokenRequest(target: PeerTarget, body: Record<string, string>, path = `${BASE}/oauth2/token`): PacedRequest {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': FORM, accept: 'application/json', authorization: basicAuth(target.clientId, target.clientSecret) },
    body: new URLSearchParams(body).toString(),
  };
}

const getJson = (path: string, headers: Record<string, string> = {}): PacedRequest => ({ method: 'GET', path, headers: { accept: 'application/json', ...headers } });

/** The same request over and over, each from another client address. */
function fromManyAddresses(request: PacedRequest) {
  return () => [
    {
      setupRequest(req) {
        return { ...req, ...request, headers: { ...request.headers, 'x-forwarded-for': nextAddress() } } as Request;
      },
    } satisfies Request,
  ];
}

/** Refresh with rotation, as bench/run.ts does for Enot ID: each request takes an unused token and returns its successor to the pool. */
function refreshRequests(target: PeerTarget, pool: string[]) {
  return () => [
    {
      setupRequest(req, context) {
        const token = pool.shift() ?? 'pool-exhausted';
        const request = tokenRequest(target, { grant_type: 'refresh_token', refresh_token: token });
        return { ...req, ...request, headers: { ...request.headers, 'x-forwarded-for': nextAddress() } } as Request;
      },
      onResponse(status, body) {
        if (status !== 200) return;
        const next = (JSON.parse(body) as TokenResponse).refresh_token;
        if (next) pool.push(next);
      },
    } satisfies Request,
  ];
}

/**
 * A browser signing in at better-auth: GET /oauth2/authorize (redirected to
 * the application's sign-in page with a signed query), the sign-in page, POST
 * /sign-in/email with the signed query (what the page's script sends; the
 * provider continues the authorization and answers where to go), the consent
 * page, POST /oauth2/consent, the redirect to the client, POST /oauth2/token.
 */
export function* peerPasswordSignIn(
  target: PeerTarget,
  input: { email: string; password: string; scope: string; resource?: string },
): Flow<TokenResponse> {
  const jar = new Map<string, string>();
  const address = nextAddress();
  const send = function* (method: 'GET' | 'POST', path: string, json?: unknown): Flow<HttpResponse> {
    // As a browser: page loads are navigations, the page's script sends JSON with fetch.
    const headers: Record<string, string> = json === undefined
      ? { 'x-forwarded-for': address, accept: 'text/html', 'sec-fetch-mode': 'navigate' }
      : { 'x-forwarded-for': address, accept: 'application/json', 'sec-fetch-mode': 'cors' };
    if (jar.size) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined;
    if (json !== undefined) {
      body = JSON.stringify(json);
      headers['content-type'] = 'application/json';
      headers.origin = target.origin;
    }
    const response = yield { method, path, headers, body } satisfies HttpRequest;
    const cookies = response.headers['set-cookie'];
    for (const line of typeof cookies === 'string' ? [cookies] : (cookies ?? [])) {
      const pair = line.split(';')[0]!;
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return response;
  };
  const expect = (response: HttpResponse, status: number, what: string) => {
    if (response.status !== status) throw new FlowError(`${what}: expected ${status}, got ${response.status} ${response.body.slice(0, 160).replace(/\s+/g, ' ')}`);
  };
  /** Where the provider sends the browser next (a JSON answer to the page's script). */
  const next = (response: HttpResponse, what: string) => {
    expect(response, 200, what);
    const url = (JSON.parse(response.body) as { url?: string }).url;
    if (!url) throw new FlowError(`${what}: no url in ${response.body.slice(0, 160)}`);
    return new URL(url, target.origin);
  };

  const secrets = pkce();
  const query = new URLSearchParams({
    client_id: target.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: input.scope,
    code_challenge: secrets.challenge,
    code_challenge_method: 'S256',
    state: secrets.state,
  });
  if (input.scope.split(' ').includes('offline_access')) query.set('prompt', 'consent');
  if (input.resource) query.set('resource', input.resource);
  const authorize = yield* send('GET', `${BASE}/oauth2/authorize?${query}`);
  // A navigation is redirected (302); fetch in Node (preparing tokens, not measured) always says Sec-Fetch-Mode: cors and gets the JSON answer.
  const signInPage = authorize.status === 302 ? new URL(String(authorize.headers.location), target.origin) : next(authorize, 'authorize');
  expect(yield* send('GET', signInPage.pathname + signInPage.search), 200, 'sign-in page');
  let to = next(
    yield* send('POST', `${BASE}/sign-in/email`, { email: input.email, password: input.password, oauth_query: signInPage.search.slice(1) }),
    'sign-in',
  );
  if (to.origin === target.origin) {
    expect(yield* send('GET', to.pathname + to.search), 200, 'consent page');
    to = next(yield* send('POST', `${BASE}/oauth2/consent`, { accept: true, oauth_query: to.search.slice(1) }), 'consent');
  }
  if (to.origin + to.pathname !== REDIRECT_URI) throw new FlowError(`did not reach the client: ${to.href}`);
  if (to.searchParams.get('state') !== secrets.state) throw new FlowError('state mismatch');
  const code = to.searchParams.get('code');
  if (!code) throw new FlowError(`no code: ${to.searchParams.get('error')} ${to.searchParams.get('error_description')}`);
  const request = tokenRequest(target, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: secrets.verifier });
  const response = yield { ...request, headers: { ...request.headers, 'x-forwarded-for': address } } as HttpRequest;
  expect(response, 200, 'token request');
  return JSON.parse(response.body) as TokenResponse;
}

const NOT_CONFIGURED_CODE = 'not in the peer: it is set up with email and password; one-time codes by mail would be better-auth\'s email-otp plugin, not part of this comparison';

/** Enot ID's scenarios the peer is measured on. */
const SHARED = new Set(['client-credentials', 'introspection-jwt', 'introspection-opaque', 'refresh', 'password-sign-in', 'discovery', 'jwks', 'userinfo']);
/** Enot ID's scenarios the peer cannot serve: a row saying why, never a zero. */
const UNSUPPORTED: Record<string, string> = { 'code-sign-in': NOT_CONFIGURED_CODE };

/**
 * The peer in one mode, driven by bench/run.ts: started before Enot ID's
 * scenarios, measured right after each one it shares (so that both figures of
 * a ratio see the same load on this shared machine, seconds apart), finished
 * after the last. It idles while Enot ID is measured.
 */
export interface PeerRun {
  /** Measures the peer on the scenario Enot ID has just been measured on (its row gives the ratio); a row saying why for one it cannot serve, nothing for one it does not share. */
  measure(enot: ScenarioResult): Promise<void>;
  /** Stops the peer, removes its schema and keys, and returns its figures for the report. */
  finish(): Promise<PeerResult>;
  /** Stops the peer and removes its schema and keys, without figures: for a mode that fails before `finish`. Harmless after it. */
  stop(): Promise<void>;
}

/** Why the peer does not run in this mode, if it does not. */
function skipReason(deps: PeerDeps): string | undefined {
  if (!deps.urls.databaseUrl || !deps.urls.redisUrl) return 'needs DATABASE_URL and REDIS_URL (the peer runs on PostgreSQL and Redis)';
  if (!deps.asked.some((id) => SHARED.has(id))) return 'no scenario it shares was asked for';
  return undefined;
}

const skippedRun = (reason: string): PeerRun => ({
  measure: async () => {},
  finish: async () => ({ peer: PEER_NAME, skipped: reason, scenarios: [], notes: [] }),
  stop: async () => {},
});

/** A started peer: its process, how to reach it, and what its scenarios need. */
interface StartedPeer {
  process: Running;
  target: PeerTarget;
  storage: string;
  setupMs: number;
  /** Access tokens from whole sign-ins, as for Enot ID; none is used up by its scenario. */
  tokens: { jwt: string; opaque: string; userinfo: string };
  signIn(i: number, scope: string, resource?: string): Flow<TokenResponse>;
}

/**
 * Starts the peer for a mode (a schema and key prefix of its own, better-auth's
 * tables and accounts, its process, the tokens its scenarios use), or says why
 * it does not run. Everything it does here is done before Enot ID's first
 * scenario, so no figure of Enot ID is taken while the peer sets up.
 */
export async function startPeer(deps: PeerDeps): Promise<PeerRun> {
  const reason = skipReason(deps);
  if (reason) return skippedRun(reason);
  const urls = { databaseUrl: deps.urls.databaseUrl!, redisUrl: deps.urls.redisUrl! };
  const id = randomBytes(5).toString('hex');
  const schema = `peer_${id}`;
  const prefix = `peer:${id}:`;
  const db = knexFactory({ client: 'pg', connection: urls.databaseUrl });
  let peerProcess: Running | undefined;
  let cleaned: Promise<void> | undefined;
  // Once, by whichever comes first: finish, a mode that failed (stop), an interrupt.
  const cleanup = () => (cleaned ??= (async () => {
    deps.onInterrupt(cleanup, false);
    await peerProcess?.stop(5000);
    await db.raw('drop schema if exists ?? cascade', [schema]).finally(() => db.destroy());
    await removeKeys(urls.redisUrl, prefix);
  })());
  deps.onInterrupt(cleanup, true);
  try {
    await db.raw('create schema ??', [schema]);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      PORT: String(port),
      ORIGIN: origin,
      DATABASE_URL: urls.databaseUrl,
      REDIS_URL: urls.redisUrl,
      PEER_SCHEMA: schema,
      PEER_REDIS_PREFIX: prefix,
      BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'),
    };
    deps.log(`peer: ${PEER_NAME}: tables (better-auth's getMigrations), ${deps.passwordAccounts} accounts and a client …`);
    const setup = await runScript<{ clientId: string; clientSecret: string; ms: number }>('bench/peers/better-auth.ts', ['--setup', String(deps.passwordAccounts)], env);
    peerProcess = await deps.track(startReference('bench/peers/better-auth.ts', env));
    const target: PeerTarget = { origin, clientId: setup.clientId, clientSecret: setup.clientSecret };
    const signIn = (i: number, scope: string, resource?: string) =>
      peerPasswordSignIn(target, { email: passwordAccount(i % deps.passwordAccounts), password: PASSWORD, scope, resource });
    const storage = `PostgreSQL (schema ${schema}) + Redis (prefix ${prefix})`;
    const tokens = await scenarioTokens(origin, signIn);
    return measuring({ process: peerProcess, target, storage, setupMs: setup.ms, tokens, signIn }, deps, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The access tokens of the introspection and userinfo scenarios, each by a whole sign-in, as for Enot ID. */
async function scenarioTokens(origin: string, signIn: StartedPeer['signIn']): Promise<StartedPeer['tokens']> {
  const [jwt, opaque, userinfo] = await runFlows(origin, 3, 1, (i) =>
    [signIn(i, 'openid api:read', JWT_RESOURCE.identifier), signIn(i, 'openid email'), signIn(i, 'openid email')][i]!,
  );
  if (jwt!.access_token.split('.').length !== 3) throw new Error('peer: expected a JWT access token for the resource');
  if (opaque!.access_token.includes('.')) throw new Error('peer: expected an opaque access token without a resource');
  return { jwt: jwt!.access_token, opaque: opaque!.access_token, userinfo: userinfo!.access_token };
}

/** The started peer's measure and finish steps; they collect its rows and its memory. */
function measuring(peer: StartedPeer, deps: PeerDeps, cleanup: () => Promise<void>): PeerRun {
  const idleMb = rssMb(peer.process.pid) ?? 0;
  let underLoadMb = idleMb;
  const scenarios: PeerScenario[] = [];
  const row = (enot: ScenarioResult) => ({ id: enot.id, number: enot.number, title: enot.title, enotRate: enot.enot.rate });
  return {
    async measure(enot) {
      if (UNSUPPORTED[enot.id]) {
        scenarios.push({ ...row(enot), unsupported: UNSUPPORTED[enot.id] });
        return;
      }
      if (!SHARED.has(enot.id)) return;
      const plan = await planFor(enot.id, peer, deps);
      deps.log(`peer: ${enot.number} ${enot.title} …`);
      const sampler = rssSampler(peer.process.pid);
      const measured = await plan.run();
      underLoadMb = Math.max(underLoadMb, sampler.stop());
      if (measured.errorSamples) deps.log(`  peer errors: ${measured.errorSamples.join(' | ')}`);
      scenarios.push({
        ...row(enot), peer: measured, ratio: measured.rate > 0 ? enot.enot.rate / measured.rate : undefined, ...(plan.note ? { note: plan.note } : {}),
      });
    },
    async finish() {
      await cleanup();
      return { peer: PEER_NAME, storage: peer.storage, scenarios, memory: { idleMb, underLoadMb }, setupMs: peer.setupMs, notes: peerNotes(peer.setupMs) };
    },
    stop: cleanup,
  };
}

/**
 * How the peer is measured on one scenario it shares. Tokens a scenario uses
 * up (refresh) are made here, before its load and outside its memory samples,
 * as for Enot ID.
 */
async function planFor(id: string, peer: StartedPeer, deps: PeerDeps): Promise<{ run: () => Promise<Measured>; note?: string }> {
  const { target, tokens } = peer;
  const load = (connections?: number) => deps.load(target.origin, connections);
  const requests = (request: PacedRequest) => () => measureRequests(load(), fromManyAddresses(request));
  const introspect = (token: string) => tokenRequest(target, { token }, `${BASE}/oauth2/introspect`);
  switch (id) {
    case 'client-credentials':
      return {
        run: requests(tokenRequest(target, { grant_type: 'client_credentials', scope: 'api:read', resource: JWT_RESOURCE.identifier })),
        note: 'a JWT access token for the resource (ES256), as Enot ID',
      };
    case 'introspection-jwt':
      return { run: requests(introspect(tokens.jwt)) };
    case 'introspection-opaque':
      return { run: requests(introspect(tokens.opaque)), note: 'better-auth issues an opaque access token when no resource is asked for' };
    case 'refresh': {
      const poolSize = deps.connections * 4;
      const pool = (await runFlows(target.origin, poolSize, 4, (i) => peer.signIn(i, 'openid offline_access api:read', JWT_RESOURCE.identifier))).map((t) => t.refresh_token!);
      if (pool.some((t) => !t)) throw new Error('peer: a sign-in with offline_access returned no refresh token');
      return { run: () => measureRequests(load(), refreshRequests(target, pool)), note: `a pool of ${poolSize} refresh tokens, rotated as for Enot ID` };
    }
    case 'password-sign-in':
      return {
        run: () => measureFlows(load(deps.flowConnections), (n) => peer.signIn(n, 'openid email')),
        note: 'GET /oauth2/authorize, sign-in page (static), POST /sign-in/email (JSON), consent page (static), POST /oauth2/consent, redirect to the client, POST /oauth2/token; passwords hashed with better-auth\'s default scrypt',
      };
    case 'discovery':
      return { run: requests(getJson(`${BASE}/.well-known/openid-configuration`)) };
    case 'jwks':
      return { run: requests(getJson(`${BASE}/jwks`)) };
    case 'userinfo':
      return {
        run: requests(getJson(`${BASE}/oauth2/userinfo`, { authorization: `Bearer ${tokens.userinfo}` })),
        note: 'the peer\'s opaque access token (looked up); Enot ID\'s is a JWT',
      };
    default:
      throw new Error(`peer: no measurement for ${id}`);
  }
}

function peerNotes(setupMs: number): string[] {
  return [
    'the peer: better-auth with @better-auth/oauth-provider (the OAuth 2.1 / OIDC provider its docs recommend; the oidcProvider plugin is gone from 1.7) and the JWT plugin (ES256), ' +
      'email and password, PostgreSQL via its built-in Kysely adapter, Redis as secondary storage (@better-auth/redis-storage), NODE_ENV=production, ' +
      'rate limiting on with counters in Redis, sessions also stored in the database (the OAuth provider requires it with secondary storage), logger at error, telemetry off',
    'each request to the peer comes from another X-Forwarded-For address, so its per-address rate limits (e.g. 20 token requests a minute) are paid for (a Redis counter per request) but never cap the load',
    `the peer's tables were made with better-auth's getMigrations and its accounts with auth.api.signUpEmail (${setupMs} ms)`,
    'the peer is measured right after each Enot ID scenario it shares (once Enot ID\'s side of it is done: Enot ID, the bare reference, the latency at half rate; seconds apart), ' +
      'in the same mode with the same load settings; it is started before Enot ID\'s first scenario and idles beside Enot ID while Enot ID is measured, ' +
      'so no figure of Enot ID is taken while the peer is under load',
  ];
}

/** The peer's table: one row per scenario of the mode, Enot ID / peer. */
export function renderPeer(result: PeerResult, format: { rate(m: Measured): string; n(v: number | undefined, digits?: number): string; ms(v: number | undefined): string }): string {
  if (result.skipped) return `peer (${result.peer}): skipped: ${result.skipped}`;
  const out = [`peer: ${result.peer} on ${result.storage}, the same scenarios, Enot ID / peer (goal: at least 2x on every shared scenario):`];
  const rows: string[][] = [['#', 'scenario', 'Enot ID', 'peer', 'HTTP req/s', 'p50 ms', 'p99 ms', 'journey p50/p99 ms', 'errors', 'Enot ID / peer']];
  const unitRate = (s: PeerScenario, rate: number | undefined) =>
    rate === undefined ? '-' : s.id.endsWith('sign-in') ? `${format.n(rate, 1)} sign-ins/s` : `${format.n(rate)} req/s`;
  for (const s of result.scenarios) {
    if (!s.peer) {
      rows.push([String(s.number), s.title, unitRate(s, s.enotRate), 'not supported', '', '', '', '', '', 'n/a']);
      continue;
    }
    const p = s.peer;
    rows.push([
      String(s.number), s.title, unitRate(s, s.enotRate), format.rate(p), format.n(p.rps), format.ms(p.p50), format.ms(p.p99),
      p.flowP50 === undefined ? '' : `${p.flowP50}/${p.flowP99}`, String(p.errors), s.ratio === undefined ? '-' : `${s.ratio.toFixed(2)}x`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const left = new Set([1]);
  out.push(rows.map((row, index) => {
    const line = row.map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    return index === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n'));
  for (const s of result.scenarios.filter((x) => x.unsupported)) out.push(`  ${s.title}: ${s.unsupported}`);
  for (const s of result.scenarios.filter((x) => x.note && x.peer)) out.push(`  ${s.title}: ${s.note}`);
  if (result.memory) out.push(`  peer memory (VmRSS): idle ${format.n(result.memory.idleMb)} MB, under load ${format.n(result.memory.underLoadMb)} MB at most`);
  const shared = result.scenarios.filter((s) => s.ratio !== undefined);
  if (shared.length) {
    const missed = shared.filter((s) => s.ratio! < 2);
    out.push(`  goal >= 2x the peer: ${missed.length ? `MISSED on ${missed.map((s) => `${s.id} (${s.ratio!.toFixed(2)}x)`).join(', ')}` : `MET on all ${shared.length} shared scenarios`}`);
  }
  for (const note of result.notes) out.push(`  note: ${note}`);
  return out.join('\n');
}
