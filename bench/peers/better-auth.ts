// The peer: better-auth 1.x as an OpenID provider, measured by `npm run bench`
// beside Enot ID (bench/lib/peer.ts). Its OAuth 2.1 / OIDC provider is the
// @better-auth/oauth-provider plugin (the oidcProvider plugin is gone from
// better-auth 1.7, and its docs point to this one), with the JWT plugin
// (JWKS, JWT access tokens for a resource, ES256 like Enot ID), email and
// password, PostgreSQL through better-auth's built-in Kysely adapter (a pg
// Pool) and Redis as secondary storage (@better-auth/redis-storage), with the
// production settings of its docs: NODE_ENV=production, a generated secret,
// rate limiting on with its counters in Redis, sessions also in the database
// (required by the OAuth provider with secondary storage), no dev logging,
// telemetry off.
//
//   node bench/peers/better-auth.ts --setup N   create the tables (better-auth's getMigrations), N accounts and
//                                               the benchmark's client; prints one JSON line
//   node bench/peers/better-auth.ts             serve on PORT; prints one JSON line {"url": …} when listening
//
// Environment: PORT, ORIGIN, DATABASE_URL, PEER_SCHEMA, REDIS_URL, PEER_REDIS_PREFIX, BETTER_AUTH_SECRET.
// The sign-in and consent pages of a real deployment are the application's
// own (better-auth renders none); here they are two tiny static pages, and the
// benchmark's browser does what their script would: POST JSON to better-auth.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { betterAuth, type BetterAuthOptions } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { jwt } from 'better-auth/plugins';
import { oauthProvider } from '@better-auth/oauth-provider';
import { redisStorage } from '@better-auth/redis-storage';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ACCESS_TOKEN_TTL, CLIENT_SCOPE, JWT_RESOURCE, PASSWORD, REDIRECT_URI, REFRESH_TOKEN_TTL, passwordAccount } from '../lib/settings.ts';

const { values: args } = parseArgs({ options: { setup: { type: 'string' } } });
const need = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const schema = need('PEER_SCHEMA');
if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('PEER_SCHEMA: a plain lower-case identifier');
const port = Number(process.env.PORT ?? 0);
const origin = process.env.ORIGIN ?? `http://127.0.0.1:${port}`;

export const BASE_PATH = '/api/auth';
const SIGN_IN_PAGE = '/sign-in';
const CONSENT_PAGE = '/consent';

const pool = new pg.Pool({ connectionString: need('DATABASE_URL'), options: `-c search_path=${schema}`, max: 10 });
const redis = new Redis(need('REDIS_URL'));

/** The one account allowed to manage OAuth clients (the setup's; clientPrivileges below). */
const ADMIN_EMAIL = 'bench-admin@example.com';

const options = {
  appName: 'better-auth peer',
  baseURL: origin,
  basePath: BASE_PATH,
  secret: need('BETTER_AUTH_SECRET'),
  database: pool,
  secondaryStorage: redisStorage({ client: redis, keyPrefix: need('PEER_REDIS_PREFIX') }),
  session: { storeSessionInDatabase: true },
  emailAndPassword: { enabled: true },
  // On by default in production; stated, with its counters in Redis as the rate-limit docs recommend for more than one process.
  rateLimit: { enabled: true, storage: 'secondary-storage' },
  logger: { level: 'error' },
  telemetry: { enabled: false },
  // The OAuth provider's docs: its /oauth2/token replaces the JWT plugin's /token.
  disabledPaths: ['/token'],
  plugins: [
    jwt({ jwks: { keyPairConfig: { alg: 'ES256' } } }),
    oauthProvider({
      loginPage: SIGN_IN_PAGE,
      consentPage: CONSENT_PAGE,
      scopes: ['openid', 'profile', 'email', 'offline_access', ...JWT_RESOURCE.scope.split(' ')],
      // openid and offline_access too: a token for a resource carries only the resource's allowed scopes, and a refresh token
      // whose scopes lack offline_access is rotated into none (the chain would end after one refresh).
      resources: [{ identifier: JWT_RESOURCE.identifier, allowedScopes: ['openid', 'offline_access', ...JWT_RESOURCE.scope.split(' ')] }],
      // Enot ID's lifetimes (bench/lib/settings.ts).
      accessTokenExpiresIn: ACCESS_TOKEN_TTL,
      m2mAccessTokenExpiresIn: ACCESS_TOKEN_TTL,
      refreshTokenExpiresIn: REFRESH_TOKEN_TTL,
      // Who may create clients (and give one client-credentials scopes): the administrator only.
      clientPrivileges: ({ user }) => user?.email === ADMIN_EMAIL,
      resourcePrivileges: ({ user }) => user?.email === ADMIN_EMAIL,
    }),
  ],
} satisfies BetterAuthOptions;

if (args.setup !== undefined) {
  const accounts = Number(args.setup);
  const began = performance.now();
  // Tables first, then the instance (its start-up checks the schema and seeds the plugin's resources).
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const auth = betterAuth(options);
  for (let i = 0; i < accounts; i++) {
    await auth.api.signUpEmail({ body: { email: passwordAccount(i), password: PASSWORD, name: `Bench ${i}` } });
  }
  const admin = await auth.api.signUpEmail({ body: { email: ADMIN_EMAIL, password: PASSWORD, name: 'Bench admin' }, returnHeaders: true });
  const cookie = admin.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
  const client = await auth.api.adminCreateOAuthClient({
    headers: new Headers({ cookie }),
    body: {
      client_name: 'Enot ID benchmark',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: CLIENT_SCOPE.split(' ').filter((s) => s !== 'opaque:read').join(' '),
      client_credentials_scopes: JWT_RESOURCE.scope.split(' '),
    },
  });
  await auth.api.adminLinkClientResource({ headers: new Headers({ cookie }), params: { identifier: JWT_RESOURCE.identifier, client_id: client.client_id } });
  process.stdout.write(`${JSON.stringify({ clientId: client.client_id, clientSecret: client.client_secret, accounts, ms: Math.round(performance.now() - began) })}\n`);
  await pool.end();
  redis.disconnect();
  process.exit(0);
}

// The application's pages: better-auth redirects the browser here with a signed query, which the page's script sends back.
const page = (title: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1><form method="post"></form></main></body></html>`;
const pages: Record<string, string> = { [SIGN_IN_PAGE]: page('Sign in'), [CONSENT_PAGE]: page('Allow access') };
const handler = toNodeHandler(betterAuth(options));
const server = http.createServer((req, res) => {
  const pathname = (req.url ?? '/').split('?')[0]!;
  const html = pages[pathname];
  if (req.method === 'GET' && html) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
    return;
  }
  void handler(req, res);
});
server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${actual}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void pool.end().finally(() => {
      redis.disconnect();
      process.exit(0);
    });
  });
  server.closeIdleConnections();
});
