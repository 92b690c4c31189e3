// Builds and runs one server process: runtime, keys, provider, HTTP.
import http from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/index.ts';
import type { Logger } from './logging/logger.ts';
import { openRuntime, type Runtime, type RuntimeOptions } from './runtime.ts';
import { loadSigningKeys, signingKeysVersion } from './keys/signing-keys.ts';
import { loadCookieKeys } from './keys/cookie-keys.ts';
import { createProvider } from './oidc/provider.ts';
import { createApp } from './app.ts';
import { purgeExpiredModels } from '../adapters/sql.ts';
import { purgeSessionDevices } from './self-service/session-devices.ts';
import { purgeKnownDevices } from './devices/known-devices.ts';
import { createDelivery, type Delivery, type OutgoingMessage } from './delivery/index.ts';
import { loadCodeSecret } from './verification/code-secret.ts';
import { createLimiters } from './rate-limit/limiters.ts';
import { createCodes, purgeExpiredCodes } from './verification/codes.ts';
import { passwordAttempts } from './verification/password-attempts.ts';
import { flowStore } from './flows/flow.ts';
import { registerAccountClient } from './self-service/first-party-client.ts';
import { createMetrics } from './metrics/metrics.ts';
import { qrLogins } from './qr/qr-login.ts';
import { purgeAuditLog } from './audit/record.ts';
import { purgeIdempotencyKeys } from './admin/idempotency.ts';
import { auditSecurityEvent } from './audit/security-event.ts';
import { issueOperatorCredential } from './admin/operator-credential.ts';
import { startSecurityNoticeWorker } from './notifications/security-notices.ts';
import { startMailingWorker } from './mailings/send.ts';

const PURGE_EVERY_MS = 10 * 60 * 1000;
// How soon a process notices keys rotated by the CLI or another process.
const KEY_CHECK_EVERY_MS = 60 * 1000;

export interface RunningServer {
  url: string;
  runtime: Runtime;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), closes pools. */
  close(): Promise<void>;
  /** Reloads signing keys now if they changed (otherwise done every minute); true when reloaded. */
  refreshSigningKeys(): Promise<boolean>;
}

async function seedInitialAccessToken(runtime: Runtime) {
  const token = runtime.config.initialAccessToken;
  if (!token) return;
  // Stored under its own value, so the configured string works as the token.
  await runtime.adapters('InitialAccessToken').upsert(token, { jti: token, kind: 'InitialAccessToken', iat: Math.floor(Date.now() / 1000) }, 0);
}

/** How a process on this machine reaches a server listening on `host`. */
function localUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return `http://127.0.0.1:${port}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export interface ServerOptions {
  /** The clock of codes and flows (ms); tests move it instead of sleeping. */
  now?: () => number;
  /** Slow-client timeouts (ms); tests shorten them. Default: headers 10 s, whole request 30 s. */
  httpTimeouts?: { headersMs: number; requestMs: number };
  /**
   * oidc-provider's outgoing requests (back-channel logout). Tests pass one that
   * reaches a receiver on loopback, which oidc-provider's SSRF protection refuses.
   */
  providerFetch?: typeof fetch;
  /** Told of every message once it is sent (demo mode prints the demo account's codes). */
  onMessageSent?: (message: OutgoingMessage) => void;
  /** The embedded PostgreSQL, already starting (server/main.ts; server/runtime.ts openEmbeddedStorage). */
  embedded?: RuntimeOptions['embedded'];
}

export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  const now = options.now ?? Date.now;
  const runtime = await openRuntime(config, { serving: true, logger, embedded: options.embedded });
  try {
    const [signingKeys, cookieKeys, codeSecret] = await Promise.all([
      loadSigningKeys(runtime.db, runtime.sealer),
      loadCookieKeys(runtime.db, runtime.sealer, config.cookieKeys),
      loadCodeSecret(runtime.db, runtime.sealer, config.codeHmacSecret),
    ]);
    // Read after loading: the first start creates the keys.
    const keysVersion = await signingKeysVersion(runtime.db);
    const metrics = createMetrics();
    const limiters = createLimiters({
      db: runtime.db,
      redis: runtime.redis,
      prefix: config.redisPrefix,
      onLimited: (limit) => metrics.rateLimited.inc({ limit }),
    });
    const build = (keys: typeof signingKeys) => {
      const built = createProvider({ config, db: runtime.db, adapters: runtime.adapters, signingKeys: keys, cookieKeys, logger, limiters, providerFetch: options.providerFetch });
      built.provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
        metrics.tokensIssued.inc({ grant_type: String(ctx.oidc.params?.grant_type ?? 'unknown') });
      });
      // A refresh token used twice (a stolen copy, or the thief's after the owner's): oidc-provider
      // revokes the whole grant (actions/grants/refresh_token.js, helpers/revoke.js) and emits
      // grant.revoked, at the token endpoint only for this case. ASVS 7.2.1: recorded, without the token.
      built.provider.on('grant.revoked', (ctx: KoaContextWithOIDC | undefined, grantId: string) => {
        // Also emitted without a context (a JWT's grant revoked by us: jwt-access-tokens.ts).
        if (ctx?.oidc?.route !== 'token' || ctx.oidc.params?.grant_type !== 'refresh_token') return;
        const token = ctx.oidc.entities.RefreshToken;
        void auditSecurityEvent({ db: runtime.db, logger }, ctx, {
          action: 'refresh_token.replayed', outcome: 'refused', targetAccountId: token?.accountId,
          details: { client_id: ctx.oidc.client?.clientId, grant: grantId, revoked: true },
        });
      });
      return built;
    };
    const first = build(signingKeys);
    const provider = { current: first.provider, accessTokens: first.jwtTokens, keysVersion };
    await seedInitialAccessToken(runtime);
    await registerAccountClient(runtime.adapters('Client'), config.issuer);
    const created = createDelivery(config, logger);
    const sent = options.onMessageSent;
    const delivery: Delivery = sent
      ? { async send(message) { await created.send(message); sent(message); }, close: () => created.close() }
      : created;
    // Workers of the job queue: they start with the server and stop with it (close()).
    await runtime.jobs.startSupervising();
    await startSecurityNoticeWorker(runtime.jobs, delivery, logger, config.brand.name);
    const mailings = await startMailingWorker({ db: runtime.db, jobs: runtime.jobs, config, logger, delivery, unsubscribeKey: cookieKeys[0]! });
    const flows = flowStore(runtime.db, now);
    const qr = qrLogins(runtime.db, now);
    const interactions = {
      provider,
      db: runtime.db,
      config,
      csrfSecret: cookieKeys[0]!,
      codes: createCodes({ db: runtime.db, secret: codeSecret, limiters, now }),
      limiters,
      passwordAttempts: passwordAttempts(limiters),
      delivery,
      jobs: runtime.jobs,
      flows,
      qr,
      revokeAccount: runtime.revokeAccount,
      accountModels: runtime.accountModels,
      adapters: runtime.adapters,
      logger,
      metrics,
      now,
    };
    const app = createApp({
      config, logger, db: runtime.db, redis: runtime.redis, provider, cookieKeys, interactions, metrics,
      admin: { sealer: runtime.sealer, adapters: runtime.adapters, accountModels: runtime.accountModels, refreshSigningKeys: () => refreshSigningKeys() },
    });

    // oidc-provider fixes its keystore at construction, so a rotation means a new
    // provider instance; requests already running finish on the old one.
    async function refreshSigningKeys(): Promise<boolean> {
      const version = await signingKeysVersion(runtime.db);
      if (version === provider.keysVersion) return false;
      const rebuilt = build(await loadSigningKeys(runtime.db, runtime.sealer));
      provider.current = rebuilt.provider;
      provider.accessTokens = rebuilt.jwtTokens;
      provider.keysVersion = await signingKeysVersion(runtime.db);
      logger.info('signing keys reloaded');
      return true;
    }
    const keyCheck = setInterval(() => {
      refreshSigningKeys().catch((err) => logger.warn({ err }, 'signing key check failed'));
    }, KEY_CHECK_EVERY_MS);
    keyCheck.unref();

    // Node checks the header and request timeouts below only every
    // connectionsCheckingInterval (30 s by default), which would let a slow-loris
    // hold a connection for up to 40 s: check every second.
    const server = http.createServer({ connectionsCheckingInterval: 1_000 }, app.callback());
    // Slow clients are cut off (slow-loris): whole headers within 10 s, a whole request within 30 s.
    server.headersTimeout = options.httpTimeouts?.headersMs ?? 10_000;
    server.requestTimeout = options.httpTimeouts?.requestMs ?? 30_000;
    server.keepAliveTimeout = 5_000;
    // While shutting down, every response closes its connection: keep-alive
    // clients move off (their next request is refused, cleanly, and can go
    // elsewhere) instead of being served until the shutdown timeout cuts them off mid-request.
    let closing = false;
    server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
      if (closing && !response.headersSent) response.setHeader('Connection', 'close');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    // Embedded mode: the CLI reaches the admin API of this process (./admin/operator-credential.ts).
    const removeCredential = config.databaseUrl
      ? () => {}
      : await issueOperatorCredential({ db: runtime.db, clients: runtime.adapters('Client'), dataDir: config.dataDir, url: localUrl(config.host, port), adminResource: config.adminApiResource });

    const purge = setInterval(() => {
      Promise.all([
        purgeExpiredModels(runtime.db), flows.purgeExpired(), purgeExpiredCodes(runtime.db), qr.purgeExpired(),
        purgeAuditLog(runtime.db, config.auditRetentionDays), purgeSessionDevices(runtime.db, config.refreshTokenTtl),
        purgeKnownDevices(runtime.db), purgeIdempotencyKeys(runtime.db),
      ]).catch((err) =>
        logger.warn({ err }, 'purge of expired rows failed'),
      );
    }, PURGE_EVERY_MS);
    purge.unref();

    return {
      url: `http://127.0.0.1:${port}`,
      runtime,
      refreshSigningKeys,
      async close() {
        clearInterval(purge);
        clearInterval(keyCheck);
        removeCredential();
        closing = true;
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        // Jobs in hand finish (within the shutdown timeout) before the transports close.
        await runtime.jobs.stop(config.shutdownTimeoutMs);
        await mailings.close();
        await delivery.close();
        await runtime.close();
      },
    };
  } catch (err) {
    await runtime.close();
    throw err;
  }
}
