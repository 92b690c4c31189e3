// `npm run bench`: Enot ID under load, beside two references measured the same
// way in the same run (a bare koa route, a bare oidc-provider), so that every
// figure is also a ratio and the noise of a shared machine cancels out.
// What each scenario does, and the figures: docs/performance.md.
//
//   npm run bench                      embedded, and server mode when DATABASE_URL / REDIS_URL are set
//   npm run bench -- --quick           every scenario for about a second (used by test/bench.test.ts)
//   options: --mode embedded|server|all  --only id,id  --duration S  --warmup S  --connections N
//            --flow-connections N  --log-level L  --cpu-prof-dir DIR (profile Enot ID and the bare reference: DIR/<mode>/<name>/*.cpuprofile)
//            --growth N,N (accounts seeded for the growth part; 10000,1000000, quick: 1000,5000)
// Growth (seeded storage) and scale-out (HAProxy in front of two processes) run
// in server mode only, after everything else: bench/lib/growth.ts, bench/lib/scale-out.ts.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type autocannon from 'autocannon';
import { cpuSample } from './lib/cpu.ts';
import { benchEnvironment, type Mode } from './lib/environment.ts';
import { devInteractionsSignIn, enotCodeSignIn, enotPasswordSignIn, runFlows, type Target, type TokenResponse } from './lib/flows.ts';
import { measureFlows, measureRequests, type LoadOptions, type Measured } from './lib/load.ts';
import { measureAtRate, type PacedRequest } from './lib/paced.ts';
import { clientCredentials, get, introspection, statics, tokenRequest } from './lib/requests.ts';
import { runGrowth } from './lib/growth.ts';
import type { PartDeps } from './lib/part.ts';
import { embeddedDatabasePids, enotPssMb, freePort, killScripts, peakSampler, ROOT, rssMb, rssSampler, runScript, startEnot, startReference, type Running } from './lib/processes.ts';
import { renderMode, targetsFor, type Argon2Result, type GrowthResult, type ModeResult, type ScaleOutResult, type ScenarioResult } from './lib/report.ts';
import { runScaleOut } from './lib/scale-out.ts';
import { startPeer, type PeerRun } from './lib/peer.ts';
import {
  BARE_CLIENT, CLIENT_SCOPE, INITIAL_ACCESS_TOKEN, JWT_RESOURCE, OPAQUE_RESOURCE, PASSWORD, REDIRECT_URI, codeAccount, passwordAccount,
} from './lib/settings.ts';
import { startSmtpSink, type SmtpSink } from './lib/smtp-sink.ts';

const SCENARIOS = [
  'client-credentials', 'introspection-jwt', 'introspection-opaque', 'refresh', 'password-sign-in', 'code-sign-in', 'discovery', 'jwks', 'userinfo',
  'scale-out', 'growth',
] as const;
type ScenarioId = (typeof SCENARIOS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    mode: { type: 'string' },
    only: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'flow-connections': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'cpu-prof-dir': { type: 'string' },
    growth: { type: 'string' },
  },
});

const quick = args.quick!;
const settings = {
  quick,
  duration: Number(args.duration ?? (quick ? 1 : 10)),
  warmup: Number(args.warmup ?? (quick ? 0 : 3)),
  connections: Number(args.connections ?? (quick ? 8 : 32)),
  flowConnections: Number(args['flow-connections'] ?? (quick ? 4 : 16)),
  argon2Seconds: quick ? 1 : 10,
  laterStarts: quick ? 1 : 3,
  passwordAccounts: quick ? 10 : 100,
  codeAccounts: quick ? 100 : 3000,
  idleSettleMs: quick ? 500 : 3000,
  logLevel: args['log-level']!,
  threadpool: Number(process.env.UV_THREADPOOL_SIZE || 4),
  growthSizes: [...new Set((args.growth ?? (quick ? '1000,5000' : '10000,1000000')).split(',').map(Number))].sort((a, b) => a - b),
};
if (!settings.growthSizes.every((size) => Number.isInteger(size) && size > 0)) throw new Error('--growth: positive whole numbers of accounts, e.g. 10000,1000000');
// The server's "listening" line (info) tells the benchmark it is up, and times the start.
if (!['info', 'debug', 'trace'].includes(settings.logLevel)) throw new Error('--log-level must be info, debug or trace');
const only = new Set((args.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? SCENARIOS) as ScenarioId[]);
for (const id of only) if (!SCENARIOS.includes(id)) throw new Error(`unknown scenario ${id}; one of ${SCENARIOS.join(', ')}`);
const wanted = (id: ScenarioId) => only.has(id);

const urls = { databaseUrl: process.env.DATABASE_URL || undefined, redisUrl: process.env.REDIS_URL || undefined };
const serverConfigured = Boolean(urls.databaseUrl || urls.redisUrl);
const modes: Mode[] =
  args.mode === 'embedded' ? ['embedded']
  : args.mode === 'server' ? ['server']
  : serverConfigured ? ['embedded', 'server'] : ['embedded'];
if (modes.includes('server') && !serverConfigured) throw new Error('--mode server needs DATABASE_URL and/or REDIS_URL');

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

/** Spreads journeys over many client addresses (with TRUST_PROXY=true), so per-IP code limits never cap the load. */
const addressFor = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

type Request = autocannon.Request;

/**
 * Refresh with rotation: every request takes an unused refresh token from the
 * pool and puts the one it gets back in. A token in flight is never reused
 * (reusing a rotated one would revoke its grant), so a journey cut off at the
 * end of a run only loses its chain.
 */
function refreshRequests(target: Target, pool: string[]) {
  return () => [
    {
      setupRequest(request, context) {
        const token = pool.shift() ?? 'pool-exhausted';
        (context as { token?: string }).token = token;
        return { ...request, ...tokenRequest(target, { grant_type: 'refresh_token', refresh_token: token }) } as Request;
      },
      onResponse(status, body) {
        if (status !== 200) return;
        const next = (JSON.parse(body) as TokenResponse).refresh_token;
        if (next) pool.push(next);
      },
    } satisfies Request,
  ];
}

async function registerClient(issuer: string): Promise<Target> {
  const response = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
    body: JSON.stringify({
      client_name: 'Enot ID benchmark',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: CLIENT_SCOPE,
    }),
  });
  if (response.status !== 201) throw new Error(`client registration failed: ${response.status} ${await response.text()}`);
  const client = (await response.json()) as { client_id: string; client_secret: string };
  return { origin: issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT_URI };
}

const logDir = path.join(os.tmpdir(), `enot-bench-logs-${process.pid}`);

/** What an interrupted run (Ctrl-C) must still undo: child processes, the temporary schema, keys and directory. */
const onInterrupt = new Set<() => Promise<unknown>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers and removing the benchmark's storage …`);
    killScripts();
    void Promise.allSettled([...onInterrupt].map((undo) => undo())).then(() => {
      rmSync(logDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

async function runMode(mode: Mode, sink: SmtpSink, logDir: string): Promise<ModeResult> {
  const environment = await benchEnvironment(mode, urls);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const storage = mode === 'embedded'
    ? 'embedded PostgreSQL under a fresh DATA_DIR, no Redis'
    : `${urls.databaseUrl ? `PostgreSQL (schema ${environment.storage.DATABASE_SCHEMA})` : 'embedded PostgreSQL'} + ${urls.redisUrl ? `Redis (prefix ${environment.storage.REDIS_PREFIX})` : 'no Redis'}`;
  const enotEnv: Record<string, string> = {
    ...environment.storage,
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    LOG_LEVEL: settings.logLevel,
    NODE_ENV: 'production',
    // SMS are not used; mail goes to the benchmark's SMTP sink.
    ALLOW_DEV_OUTBOX: 'true',
    SMTP_URL: sink.url,
    TRUST_PROXY: 'true',
    INITIAL_ACCESS_TOKEN,
    DEFAULT_RESOURCE: JWT_RESOURCE.identifier,
    DEFAULT_RESOURCE_SCOPES: JWT_RESOURCE.scope,
    RESOURCE_SERVERS: JSON.stringify([OPAQUE_RESOURCE]),
    SHUTDOWN_TIMEOUT: '5',
  };
  const logFile = path.join(logDir, `enot-id-${mode}.log`);
  const running: Running[] = [];
  const started = async <T extends Running>(p: Promise<T>) => {
    const r = await p;
    running.push(r);
    return r;
  };
  const notes: string[] = [];
  let stopPeer: PeerRun['stop'] | undefined;
  const undo = async () => {
    await Promise.all(running.map((r) => r.stop(5000)));
    // The peer's schema and keys, if the mode failed between its start and its finish.
    await stopPeer?.();
    await environment.cleanup();
  };
  onInterrupt.add(undo);
  try {
    // 7: the first start creates every table (migrations) and the keys.
    log(`${mode}: first start (migrations) …`);
    const first = await started(startEnot(enotEnv, { logFile }));
    await first.stop();
    const setup = await runScript<{ ms: number }>('bench/setup-accounts.ts', ['--password', String(settings.passwordAccounts), '--code', String(settings.codeAccounts)], enotEnv);
    log(`${mode}: ${settings.passwordAccounts} password and ${settings.codeAccounts} code accounts created in ${setup.ms} ms`);

    const profiled = (name: string) => (args['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof-dir'], mode, name)}`] : []);
    const nodeArgs = profiled('enot-id');
    const server = await started(startEnot(enotEnv, { logFile, nodeArgs }));
    const laterMs = [server.startMs];
    const laterReportedMs = [server.reportedStartupMs ?? -1];
    const target = await registerClient(issuer);

    const koa = await started(startReference('bench/references/koa-hello.ts', { PORT: String(await freePort()), NODE_ENV: 'production' }));
    const barePort = await freePort();
    const bare = await started(
      startReference('bench/references/bare-provider.ts', { PORT: String(barePort), ISSUER: `http://127.0.0.1:${barePort}`, NODE_ENV: 'production' }, profiled('bare-oidc-provider')),
    );
    const bareTarget: Target = { origin: bare.url, ...BARE_CLIENT, redirectUri: REDIRECT_URI };

    await sleep(settings.idleSettleMs);
    // PSS of every process of Enot ID: in embedded mode the server and its PostgreSQL.
    const enotProcesses = () => enotPssMb(server.pid, mode === 'embedded' ? environment.dataDir : undefined);
    const enotPss = () => enotProcesses().mb;
    const idle = enotProcesses();
    const memory = {
      idleMb: rssMb(server.pid) ?? 0, koaIdleMb: rssMb(koa.pid), bareIdleMb: rssMb(bare.pid), underLoadMb: 0, afterLoadMb: 0,
      idlePssMb: idle.mb, idleProcesses: idle.processes, underLoadPssMb: 0, afterLoadPssMb: 0,
    };

    // CPU time per unit of the process under load (bench/lib/cpu.ts): Enot ID with, in
    // embedded mode, its PostgreSQL; the bare reference alone (it keeps everything in memory).
    const enotCpu = () => cpuSample(server.pid, mode === 'embedded' ? () => embeddedDatabasePids(environment.dataDir) : undefined);
    const cpuOf = (url: string) => (url === server.url ? enotCpu : url === bare.url ? () => cpuSample(bare.pid) : undefined);
    const load = (url: string, connections = settings.connections): LoadOptions => {
      const cpu = cpuOf(url);
      return { url, connections, duration: settings.duration, warmup: settings.warmup, ...(cpu && { cpu }) };
    };
    // The peer (bench/lib/peer.ts): better-auth on the same PostgreSQL and Redis. Started now, after
    // Enot ID's start-up and idle figures and before its first scenario, so that its set-up
    // (tables, scrypt hashes, sign-ins) overlaps none of Enot ID's figures. Each scenario block below
    // ends with `peer.measure`: the peer on the same scenario seconds after Enot ID rather than after
    // all of them, so that the machine's load changes little between the two figures of a ratio.
    // It comes after everything of Enot ID's side of the scenario (the bare reference, the latency
    // at half rate, which has no warm-up, raw Argon2id), so that the peer's last requests still in
    // flight never overlap a figure of Enot ID; the next scenario's warm-up absorbs them. The peer
    // idles while Enot ID is measured.
    const peer = await startPeer({
      urls, asked: [...only], load, flowConnections: settings.flowConnections, connections: settings.connections, passwordAccounts: settings.passwordAccounts,
      track: started, onInterrupt: (undo, add) => void (add ? onInterrupt.add(undo) : onInterrupt.delete(undo)), log: (message) => log(`${mode}: ${message}`),
    });
    stopPeer = peer.stop;

    const scenarios: ScenarioResult[] = [];
    let underLoadMb = 0;
    let underLoadPssMb = 0;
    /** Measures Enot ID with its RSS sampled, then the bare reference right after it (same conditions, moments apart). */
    const scenario = async (
      id: ScenarioId, number: number, title: string,
      enot: () => Promise<Measured>, bareRun?: () => Promise<Measured>, extra: Partial<ScenarioResult> = {},
    ) => {
      log(`${mode}: ${number} ${title} …`);
      const sampler = rssSampler(server.pid);
      const pssSampler = peakSampler(enotPss);
      const measured = await enot();
      const rssMaxMb = sampler.stop();
      underLoadMb = Math.max(underLoadMb, rssMaxMb);
      underLoadPssMb = Math.max(underLoadPssMb, pssSampler.stop());
      const bareMeasured = bareRun ? await bareRun() : undefined;
      const result: ScenarioResult = {
        id, number, title, enot: measured, rssMaxMb,
        ratios: { koa: measured.rps / koaMeasured.rps, ...(bareMeasured ? { bare: measured.rate / bareMeasured.rate } : {}) },
        ...(bareMeasured ? { bare: bareMeasured } : {}),
        ...extra,
      };
      scenarios.push(result);
      if (measured.errorSamples) log(`  errors: ${measured.errorSamples.join(' | ')}`);
      if (bareMeasured?.errorSamples) log(`  bare errors: ${bareMeasured.errorSamples.join(' | ')}`);
      return result;
    };
    const halfRate = async (result: ScenarioResult, request: PacedRequest) => {
      const rate = Math.max(1, Math.round(result.enot.rate / 2));
      result.halfRate = await measureAtRate(server.url, request, rate, settings.duration);
    };

    log(`${mode}: reference koa "hello" …`);
    const koaMeasured = await measureRequests(load(koa.url), statics(get('/', { accept: 'text/plain' })));

    // Tokens for the scenarios, each by a whole sign-in through the pages.
    log(`${mode}: preparing tokens by signing in through the forms …`);
    const poolSize = settings.connections * 4;
    const enotSignIn = (i: number, scope: string, resource?: string) =>
      enotPasswordSignIn(target, { email: passwordAccount(i % settings.passwordAccounts), password: PASSWORD, scope, resource });
    const bareSignIn = (i: number, scope: string, resource?: string) => devInteractionsSignIn(bareTarget, { login: `user-${i}`, scope, resource });
    const [enotJwt, enotOpaque, enotUserinfo] = await runFlows(target.origin, 3, 3, (i) =>
      [enotSignIn(i, 'openid api:read', JWT_RESOURCE.identifier), enotSignIn(i, 'openid opaque:read', OPAQUE_RESOURCE.identifier), enotSignIn(i, 'openid email')][i]!,
    );
    if (enotOpaque!.access_token.includes('.')) throw new Error('expected an opaque access token for the opaque resource');

    if (wanted('client-credentials')) {
      const r = await scenario('client-credentials', 1, 'client credentials (JWT AT)',
        () => measureRequests(load(server.url), statics(clientCredentials(target))),
        () => measureRequests(load(bare.url), statics(clientCredentials(bareTarget))));
      await halfRate(r, clientCredentials(target));
      await peer.measure(r);
    }
    if (wanted('introspection-jwt') || wanted('introspection-opaque')) {
      // The bare provider's in-memory store is an LRU of 1000 entries: its tokens are made right before use.
      const [bareOpaque] = await runFlows(bare.url, 1, 1, (i) => bareSignIn(i, 'openid opaque:read', OPAQUE_RESOURCE.identifier));
      const bareIntrospection = () => measureRequests(load(bare.url), statics(introspection(bareTarget, bareOpaque!.access_token)));
      const bareRef = await bareIntrospection();
      if (wanted('introspection-jwt')) {
        const r = await scenario('introspection-jwt', 2, 'introspection of a JWT AT',
          () => measureRequests(load(server.url), statics(introspection(target, enotJwt!.access_token))), async () => bareRef, {
            bareNote: 'oidc-provider declines JWT access tokens at introspection; the reference is its introspection of an opaque token',
          });
        await halfRate(r, introspection(target, enotJwt!.access_token));
        await peer.measure(r);
      }
      if (wanted('introspection-opaque')) {
        const r = await scenario('introspection-opaque', 2, 'introspection of an opaque AT',
          () => measureRequests(load(server.url), statics(introspection(target, enotOpaque!.access_token))), bareIntrospection);
        await halfRate(r, introspection(target, enotOpaque!.access_token));
        await peer.measure(r);
      }
    }
    if (wanted('refresh')) {
      const scope = 'openid offline_access api:read';
      const pool = (await runFlows(target.origin, poolSize, 4, (i) => enotSignIn(i, scope, JWT_RESOURCE.identifier))).map((t) => t.refresh_token!);
      const barePool = (await runFlows(bare.url, poolSize, 4, (i) => bareSignIn(i, scope, JWT_RESOURCE.identifier))).map((t) => t.refresh_token!);
      if (pool.some((t) => !t) || barePool.some((t) => !t)) throw new Error('a sign-in with offline_access returned no refresh token');
      const r = await scenario('refresh', 3, 'refresh token (rotation)',
        () => measureRequests(load(server.url), refreshRequests(target, pool)),
        () => measureRequests(load(bare.url), refreshRequests(bareTarget, barePool)),
        { note: `a pool of ${poolSize} refresh tokens from sign-ins through the forms; each request uses an unused one and returns its successor to the pool` });
      await peer.measure(r);
    }
    let argon2: Argon2Result | undefined;
    let bareSignInMeasured: Measured | undefined;
    const bareSignIns = async () =>
      (bareSignInMeasured ??= await measureFlows(load(bare.url, settings.flowConnections), (n) => bareSignIn(n, 'openid email')));
    if (wanted('password-sign-in')) {
      const r = await scenario('password-sign-in', 4, 'sign-in by password (code + PKCE)',
        () => measureFlows(load(server.url, settings.flowConnections), (n) =>
          enotPasswordSignIn(target, { email: passwordAccount(n % settings.passwordAccounts), password: PASSWORD, scope: 'openid email' })),
        bareSignIns, {
          bareNote: 'the reference sign-in goes through devInteractions: the same protocol steps, no password check',
          note: 'GET /auth, sign-in page, POST password, consent page, POST consent, redirect to the client, POST /token',
        });
      log(`${mode}: reference raw Argon2id …`);
      argon2 = await runScript<Argon2Result>('bench/references/argon2.ts', ['--duration', String(settings.argon2Seconds)], {});
      r.ratios.argon2 = r.enot.rate / argon2.rate;
      await peer.measure(r);
    }
    if (wanted('code-sign-in')) {
      const before = sink.received();
      const r = await scenario('code-sign-in', 5, 'sign-in by one-time code (code + PKCE)',
        () => measureFlows(load(server.url, settings.flowConnections), (n) =>
          enotCodeSignIn(target, {
            email: codeAccount(n % settings.codeAccounts),
            scope: 'openid email',
            headers: { 'x-forwarded-for': addressFor(n) },
            codeFor: (email) => sink.take(email),
          })),
        bareSignIns, {
          bareNote: 'the reference sign-in goes through devInteractions: the same protocol steps, no code',
          note: 'GET /auth, sign-in page, POST email (code sent over SMTP to a sink in the benchmark process), code page, POST code, consent, token',
        });
      notes.push(
        `code sign-in: ${sink.received() - before} mails received by the SMTP sink; every journey uses a distinct address ` +
        `(${settings.codeAccounts} accounts, each used at most 5 times an hour) and a distinct X-Forwarded-For address with TRUST_PROXY=true, ` +
        'so the per-identifier and per-IP code limits (server/verification/limits.ts) do not cap the rate',
      );
      await peer.measure(r); // reported as not supported: nothing is measured
    }
    if (wanted('discovery')) {
      await peer.measure(await scenario('discovery', 6, 'discovery', () => measureRequests(load(server.url), statics(get('/.well-known/openid-configuration'))),
        () => measureRequests(load(bare.url), statics(get('/.well-known/openid-configuration')))));
    }
    if (wanted('jwks')) {
      await peer.measure(await scenario('jwks', 6, 'JWKS', () => measureRequests(load(server.url), statics(get('/jwks'))),
        () => measureRequests(load(bare.url), statics(get('/jwks')))));
    }
    if (wanted('userinfo')) {
      const [bareUserinfo] = await runFlows(bare.url, 1, 1, (i) => bareSignIn(i, 'openid email'));
      const r = await scenario('userinfo', 6, 'userinfo',
        () => measureRequests(load(server.url), statics(get('/me', { authorization: `Bearer ${enotUserinfo!.access_token}` }))),
        () => measureRequests(load(bare.url), statics(get('/me', { authorization: `Bearer ${bareUserinfo!.access_token}` }))), {
          bareNote: 'Enot ID answers with its JWT access token (verified, grant and account checked); the reference with its opaque userinfo token',
        });
      await peer.measure(r);
    }

    await sleep(settings.idleSettleMs);
    memory.underLoadMb = underLoadMb;
    memory.afterLoadMb = rssMb(server.pid) ?? 0;
    memory.underLoadPssMb = underLoadPssMb;
    memory.afterLoadPssMb = enotPss();
    await Promise.all([koa.stop(), bare.stop()]);
    const code = await server.stop();
    if (code !== 0) notes.push(`the server exited with ${code} after the load (SIGTERM)`);

    // The peer is stopped (its schema and keys removed) before the later starts below, which it must not slow.
    const peerResult = await peer.finish();

    // 7: more later starts, on the storage the run has filled.
    for (let i = 1; i < settings.laterStarts; i++) {
      const again = await started(startEnot(enotEnv, { logFile }));
      laterMs.push(again.startMs);
      laterReportedMs.push(again.reportedStartupMs ?? -1);
      await again.stop();
    }

    // Last, so that neither touches the figures above: scale-out on the storage as it is, then growth, which fills it.
    let scaleOut: ScaleOutResult | undefined;
    let growth: GrowthResult | undefined;
    if (wanted('scale-out') || wanted('growth')) {
      const partLog = (name: string) => path.join(logDir, `${name}-${mode}.log`);
      const parts: PartDeps = {
        env: enotEnv,
        target,
        startServer: (env, name) => started(startEnot(env, { logFile: partLog(name) })),
        track: started,
        logFile: partLog,
        load,
        flowConnections: settings.flowConnections,
        passwordAccounts: settings.passwordAccounts,
        quick,
        log: (message) => log(`${mode}: ${message}`),
      };
      const unavailable = mode !== 'server' ? 'server mode only' : !urls.databaseUrl || !urls.redisUrl ? 'needs both DATABASE_URL and REDIS_URL' : undefined;
      if (unavailable) {
        notes.push(`growth and scale-out: ${unavailable}; not run here`);
        if (wanted('scale-out') && mode === 'server') scaleOut = { skipped: unavailable, rows: [], ratios: {}, notes: [] };
      } else {
        if (wanted('scale-out')) scaleOut = await runScaleOut(parts);
        if (wanted('growth')) growth = await runGrowth(parts, settings.growthSizes);
      }
    }

    const partial = {
      mode, storage, koa: koaMeasured, argon2, scenarios, memory, notes, growth, scaleOut, peer: peerResult,
      startup: { firstMs: first.startMs, firstReportedMs: first.reportedStartupMs, laterMs, laterMedianMs: median(laterMs), laterReportedMs },
    };
    return { ...partial, targets: targetsFor(partial) };
  } finally {
    onInterrupt.delete(undo);
    await undo();
  }
}

const startedAt = new Date();
mkdirSync(logDir, { recursive: true });
const sink = await startSmtpSink();
const results: Partial<Record<Mode, ModeResult>> = {};
let failed = false;
try {
  log(`modes: ${modes.join(', ')}; ${settings.duration} s per scenario after ${settings.warmup} s warm-up; ${settings.connections} connections (sign-ins: ${settings.flowConnections}); server logs in ${logDir}`);
  for (const mode of modes) results[mode] = await runMode(mode, sink, logDir);
} catch (err) {
  failed = true;
  log(`failed: ${(err as Error).stack ?? err}`);
} finally {
  await sink.close();
}

const cpus = os.cpus();
const report = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: { cpus: cpus.length, model: cpus[0]?.model, memoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, platform: `${os.type()} ${os.release()}`, loadavg: os.loadavg() },
  settings,
  modes: results,
};
if (failed) {
  process.stdout.write(`bench failed; server logs kept in ${logDir}\n`);
  process.exit(1);
}
rmSync(logDir, { recursive: true, force: true });
const resultsDir = path.join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = path.join(resultsDir, `${startedAt.toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

process.stdout.write(
  `Enot ID benchmark, ${report.startedAt}: ${cpus.length} CPUs (${cpus[0]?.model}), Node ${process.version}; ` +
    `${settings.duration} s per scenario after ${settings.warmup} s warm-up, ${settings.connections} connections (sign-ins: ${settings.flowConnections} at a time)` +
    `${quick ? ' [--quick: figures are not meaningful]' : ''}\n\n`,
);
for (const mode of modes) process.stdout.write(`${renderMode(results[mode]!)}\n\n`);
process.stdout.write(`results: ${path.relative(ROOT, file)}\n`);
