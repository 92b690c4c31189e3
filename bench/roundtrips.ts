// How many SQL statements and Redis commands Enot ID sends per request (or per
// whole sign-in) of each benchmark scenario: the server runs with a counting
// preload (bench/lib/count-storage.ts) and every scenario is repeated 20 times,
// one request at a time. Needs DATABASE_URL and REDIS_URL (server mode).
//
//   DATABASE_URL=… REDIS_URL=… node bench/roundtrips.ts [--detail]
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchEnvironment } from './lib/environment.ts';
import { FORM, basicAuth, enotCodeSignIn, enotPasswordSignIn, runFlow, type Target, type TokenResponse } from './lib/flows.ts';
import { freePort, runScript, startEnot } from './lib/processes.ts';
import { CLIENT_SCOPE, INITIAL_ACCESS_TOKEN, JWT_RESOURCE, OPAQUE_RESOURCE, PASSWORD, REDIRECT_URI, codeAccount, passwordAccount } from './lib/settings.ts';
import { startSmtpSink } from './lib/smtp-sink.ts';

const { values } = parseArgs({ options: { detail: { type: 'boolean', default: false } } });
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) throw new Error('set DATABASE_URL and REDIS_URL: the counts are of node-postgres and ioredis calls');
const REPEAT = 20;

interface Counts {
  sql: number;
  redis: number;
  statements: Record<string, number>;
  commands: Record<string, number>;
}

const environment = await benchEnvironment('server', { databaseUrl: process.env.DATABASE_URL, redisUrl: process.env.REDIS_URL });
const sink = await startSmtpSink();
const port = await freePort();
const issuer = `http://127.0.0.1:${port}`;
const env = {
  ...environment.storage, PORT: String(port), HOST: '127.0.0.1', ISSUER: issuer, LOG_LEVEL: 'info', NODE_ENV: 'production', ALLOW_DEV_OUTBOX: 'true',
  SMTP_URL: sink.url, TRUST_PROXY: 'true', INITIAL_ACCESS_TOKEN, RESOURCE_SERVERS: JSON.stringify([OPAQUE_RESOURCE]),
};
const logFile = path.join(os.tmpdir(), `enot-roundtrips-${process.pid}.log`);
await runScript('bench/setup-accounts.ts', ['--password', '5', '--code', String(REPEAT + 1)], env);
const server = await startEnot(env, { logFile, nodeArgs: ['--import', './bench/lib/count-storage.ts'] });
try {
  const registered = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], scope: CLIENT_SCOPE }),
  });
  const client = (await registered.json()) as { client_id: string; client_secret: string };
  const target: Target = { origin: issuer, clientId: client.client_id, clientSecret: client.client_secret, redirectUri: REDIRECT_URI };
  const signIn = (i: number, scope: string, resource?: string) =>
    enotPasswordSignIn(target, { email: passwordAccount(i % 5), password: PASSWORD, scope, resource });
  const jwt = await runFlow(issuer, signIn(0, 'openid api:read', JWT_RESOURCE.identifier));
  const opaque = await runFlow(issuer, signIn(1, 'openid opaque:read', OPAQUE_RESOURCE.identifier));
  const userinfo = await runFlow(issuer, signIn(2, 'openid email'));
  let refreshToken = (await runFlow(issuer, signIn(3, 'openid offline_access api:read', JWT_RESOURCE.identifier))).refresh_token!;

  const counts = async (): Promise<Counts> => {
    server.child.kill('SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const line = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('STORAGE-COUNTS ')).at(-1)!;
    return JSON.parse(line.slice('STORAGE-COUNTS '.length)) as Counts;
  };
  const post = (pathname: string, body: Record<string, string>) =>
    fetch(issuer + pathname, { method: 'POST', headers: { 'content-type': FORM, authorization: basicAuth(target.clientId, target.clientSecret) }, body: new URLSearchParams(body) })
      .then(async (r) => {
        if (r.status !== 200) throw new Error(`${pathname}: ${r.status} ${await r.text()}`);
        return r.json() as Promise<TokenResponse>;
      });
  const get = (pathname: string, headers: Record<string, string> = {}) =>
    fetch(issuer + pathname, { headers }).then(async (r) => {
      if (r.status !== 200) throw new Error(`${pathname}: ${r.status}`);
      return r.text();
    });

  const rows: string[] = [];
  const measure = async (name: string, run: (i: number) => Promise<unknown>) => {
    const before = await counts();
    for (let i = 1; i <= REPEAT; i++) await run(i);
    const after = await counts();
    const per = (a: Record<string, number>, b: Record<string, number>) =>
      Object.entries(b).map(([k, v]) => [k, (v - (a[k] ?? 0)) / REPEAT] as const).filter(([, v]) => v > 0).map(([k, v]) => `${v}× ${k}`).join('; ');
    rows.push(`${name.padEnd(30)} ${((after.sql - before.sql) / REPEAT).toFixed(1).padStart(5)} SQL  ${((after.redis - before.redis) / REPEAT).toFixed(1).padStart(5)} Redis`);
    if (values.detail) rows.push(`    SQL: ${per(before.statements, after.statements)}`, `    Redis: ${per(before.commands, after.commands)}`);
  };
  await measure('client credentials', () => post('/token', { grant_type: 'client_credentials', scope: 'api:read', resource: JWT_RESOURCE.identifier }));
  await measure('introspection of a JWT AT', () => post('/token/introspection', { token: jwt.access_token }));
  await measure('introspection of an opaque AT', () => post('/token/introspection', { token: opaque.access_token }));
  await measure('refresh (rotation)', async () => {
    refreshToken = (await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken })).refresh_token!;
  });
  await measure('userinfo', () => get('/me', { authorization: `Bearer ${userinfo.access_token}` }));
  await measure('discovery', () => get('/.well-known/openid-configuration'));
  await measure('JWKS', () => get('/jwks'));
  await measure('password sign-in (whole)', (i) => runFlow(issuer, signIn(i, 'openid email')));
  await measure('code sign-in (whole)', (i) =>
    runFlow(issuer, enotCodeSignIn(target, { email: codeAccount(i), scope: 'openid email', headers: { 'x-forwarded-for': `10.99.0.${i}` }, codeFor: (m) => sink.take(m) })));
  process.stdout.write(`per request (or per whole sign-in), averaged over ${REPEAT}:\n${rows.join('\n')}\n`);
} finally {
  await server.stop();
  await sink.close();
  await environment.cleanup();
  rmSync(logFile, { force: true });
}
