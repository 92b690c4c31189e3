// The one place that reads the environment. Everything else receives a Config.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isSupportedCountry } from 'libphonenumber-js';
import { describeIssue } from './problems.ts';
import { brandColors, logoProblem, normalHex, supportProblem } from './brand.ts';
import { parseRedisUrl } from '../redis/url.ts';

/** A role name: lower-case letters, digits, `_ : . -` (DEFAULT_ROLES, the CLI, the admin API). */
export const ROLE_NAME = /^[a-z][a-z0-9_:.-]{0,63}$/;

const wholeNumber = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value, ctx) => {
      if (!/^\d+$/.test(value.trim())) {
        ctx.addIssue({ code: 'custom', message: 'not a whole number' });
        return z.NEVER;
      }
      return Number(value.trim());
    })
    .pipe(z.number().int().min(min).max(max));

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const absoluteUrl = (protocols: string[]) =>
  z.string().trim().refine((value) => {
    try {
      const url = new URL(value);
      return protocols.includes(url.protocol) && !url.hash;
    } catch {
      return false;
    }
  }, `not a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')} (and without #…)`);

// RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
const resourceIndicator = z.string().trim().refine((value) => {
  try {
    return !new URL(value).hash;
  } catch {
    return false;
  }
}, 'not an absolute URI without a fragment (RFC 8707 §2)');

const resourceServer = z.object({
  identifier: resourceIndicator,
  scope: z.string().trim().default(''),
  accessTokenFormat: z.enum(['jwt', 'opaque']).default('jwt'),
});

const schema = z.object({
  /** Public base URL of this provider; `iss` of every token (OIDC Discovery §4.3). */
  ISSUER: absoluteUrl(['http:', 'https:'])
    .default('http://localhost:3000')
    // Every route is served at the root of the host (/token, /jwks, /account): an issuer
    // with a path would publish endpoints that do not answer. OIDC Discovery §4.3: the
    // issuer is also compared exactly, so no query either.
    .refine((v) => {
      const url = URL.parse(v);
      // An unparsable value is reported by absoluteUrl above.
      return !url || url.pathname.replace(/\/+$/, '') === '' && url.search === '' && !url.username && !url.password;
    }, 'has a path, a query or a user, but Enot ID answers at the root of its host')
    .transform((v) => v.replace(/\/+$/, '')),
  /** TCP port to listen on. */
  PORT: wholeNumber(3000, 0, 65_535),
  /** Interface to listen on. */
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  /** Where the embedded database and the dev outbox live. */
  DATA_DIR: z.string().trim().min(1).default('./data'),
  /** PostgreSQL connection URL; unset means the embedded PostgreSQL that Enot ID starts under DATA_DIR (server/db/embedded-postgres.ts). */
  DATABASE_URL: absoluteUrl(['postgres:', 'postgresql:']).optional(),
  /** PostgreSQL schema that holds every table (one per test run keeps runs apart). */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'not a lower-case SQL name')
    .default('public'),
  /**
   * Connections each pool of a process opens to PostgreSQL at most (server/db/connect.ts);
   * the job queue keeps 4 of its own beside them. Behind PgBouncer these are client
   * connections, and its default_pool_size bounds the server's (docs/postgresql.md).
   */
  DATABASE_POOL_MAX: wholeNumber(10, 1, 1_000),
  /**
   * Redis URL; when set, sessions, grants, codes and tokens live in Redis. One Redis
   * (redis://), a Redis Cluster (redis+cluster://host:port,host:port) or a primary
   * found through Sentinels (redis+sentinel://host:port,host:port/name): server/redis/url.ts.
   */
  REDIS_URL: z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      try {
        parseRedisUrl(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),
  /**
   * Replicas that must hold each write of a token, session or grant before the request
   * is answered (Redis WAIT, per node written): 1 with Sentinel or a Cluster with
   * replicas, so that a failover loses nothing answered 200; 0 (the default) waits for
   * none. A write the replicas do not confirm within the storage deadline fails (503).
   */
  REDIS_WAIT_REPLICAS: wholeNumber(0, 0, 5),
  /** Prefix of every Redis key (one per test run keeps runs apart). */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/, 'holds characters other than A-Z a-z 0-9 : _ - or is longer than 64').default('enot:'),
  /** Comma-separated cookie signing keys, newest first; unset means generated once and kept in the database. */
  COOKIE_KEYS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((k) => k.trim()).filter(Boolean) : undefined))
    .pipe(z.array(z.string().min(32, 'shorter than 32 characters')).min(1).optional()),
  /** Trust X-Forwarded-* headers (set when behind a load balancer). */
  TRUST_PROXY: flag,
  /**
   * With TRUST_PROXY: how many proxies stand in front (each appends the address it
   * received from to X-Forwarded-For). The client's address is the one the outermost
   * proxy appended, this many from the right; what is left of it the client wrote
   * itself and is never trusted (OWASP ASVS V11, X-Forwarded-For spoofing).
   */
  TRUST_PROXY_HOPS: wholeNumber(1, 1, 10),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: readable lines when stdout is a terminal, JSON otherwise (a file, a pipe, a log collector).
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /** Access token lifetime; 15 minutes by default (RFC 9700 §2.2.2 asks for short-lived access tokens). */
  ACCESS_TOKEN_TTL: wholeNumber(900, 60, 86_400),
  /** Refresh token lifetime; 7 days by default. */
  REFRESH_TOKEN_TTL: wholeNumber(604_800, 300, 31_536_000),
  /** Audience of access tokens when the client names no resource (RFC 8707). */
  DEFAULT_RESOURCE: resourceIndicator.default('urn:enot-id:api'),
  /** Space-separated scopes that clients may request for DEFAULT_RESOURCE. */
  DEFAULT_RESOURCE_SCOPES: z.string().trim().default('api:read api:write'),
  /** JSON array of further resource servers: [{"identifier","scope","accessTokenFormat":"jwt"|"opaque"}]. */
  RESOURCE_SERVERS: z
    .string()
    .default('[]')
    .transform((value, ctx) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.array(resourceServer)),
  /** Roles every new account gets, comma-separated; `none` for none (issue 11). */
  DEFAULT_ROLES: z
    .string()
    .trim()
    .default('user')
    .transform((v) => (v === 'none' ? [] : [...new Set(v.split(/[,\s]+/).filter(Boolean))]))
    .superRefine((roles, ctx) => {
      const bad = roles.find((role) => !ROLE_NAME.test(role));
      if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `"${bad}" is not a role name` });
    }),
  /** Days an audit record is kept (server/audit/); older ones are purged. ASVS 7.3.4 asks for a retention one can state. */
  AUDIT_RETENTION_DAYS: wholeNumber(365, 1, 36_500),
  /** A fixed initial access token for dynamic client registration (RFC 7591 §3), for automation. */
  INITIAL_ACCESS_TOKEN: z.string().min(32, 'shorter than 32 characters').optional(),
  /** SMTP server for mail, e.g. smtps://user:pass@smtp.example.com:465; unset means the dev outbox. */
  SMTP_URL: absoluteUrl(['smtp:', 'smtps:']).optional(),
  /** Sender of every mail (RFC 5322 From). */
  MAIL_FROM: z.string().trim().min(3).default('Enot ID <no-reply@localhost>'),
  MAILING_RATE: wholeNumber(600, 1, 600_000),
  /** HTTP(S) endpoint that receives SMS as JSON {to, text}; unset means the dev outbox. */
  SMS_WEBHOOK_URL: absoluteUrl(['http:', 'https:']).optional(),
  /** When set, SMS webhook requests carry X-Enot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")> (docs/delivery.md). */
  SMS_WEBHOOK_SECRET: z.string().min(32, 'shorter than 32 characters').optional(),
  /** Allow the dev outbox when NODE_ENV=production (otherwise refused, so mail is never dropped silently). */
  ALLOW_DEV_OUTBOX: flag,
  /** ISO 3166 region for phone numbers typed without a country code. */
  DEFAULT_PHONE_REGION: z
    .string()
    .trim()
    .default('US')
    .superRefine((region, ctx) => {
      if (isSupportedCountry(region)) return;
      ctx.addIssue({ code: 'custom', message: /^[a-z]{2}$/.test(region) ? 'written in lower case, but country codes are capitals' : 'not a country code libphonenumber knows' });
    }),
  /** Secret for HMACs of one-time codes; unset means generated once and kept in the database. */
  CODE_HMAC_SECRET: z.string().min(32, 'shorter than 32 characters').optional(),
  /** Lifetime of a device code and its user code (RFC 8628 §3.2 expires_in). */
  DEVICE_CODE_TTL: wholeNumber(600, 60, 3600),
  /** Least seconds between a device's polls (RFC 8628 §3.2 interval); faster polls get slow_down. */
  DEVICE_POLL_INTERVAL: wholeNumber(5, 1, 60),
  /** Bearer token that guards GET /metrics (Prometheus); unset means no /metrics at all. */
  METRICS_TOKEN: z.string().min(32, 'shorter than 32 characters').optional(),
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  SHUTDOWN_TIMEOUT: wholeNumber(10, 0, 300),
  /**
   * While serving requests: the longest wait for one Redis command or one SQL statement, in
   * milliseconds; then the request is answered 503. A partition (packets dropped, no reset)
   * otherwise holds a request until TCP gives up, minutes later (docs/reliability.md).
   * Migrations and the CLI run without it.
   */
  STORAGE_TIMEOUT_MS: wholeNumber(2_000, 100, 60_000),
  /** The longest wait to open a connection to PostgreSQL or Redis, or for a free pooled PostgreSQL connection, in milliseconds. */
  STORAGE_CONNECT_TIMEOUT_MS: wholeNumber(2_000, 100, 60_000),
  /**
   * Key-encryption keys that seal secrets at rest (server/keys/sealed-secrets.ts):
   * comma-separated, each 32 bytes as base64, base64url or 64 hex digits, newest
   * first. Unset: secrets are stored in the clear.
   */
  SECRETS_KEY: z.string().optional(),
  /** A file holding SECRETS_KEY's value (e.g. a mounted Kubernetes or compose secret); read at start. */
  SECRETS_KEY_FILE: z.string().trim().min(1).optional(),
  /**
   * Demo mode (`npm start -- --demo`): seeds a demo client, the orders API's resource
   * and role and a demo account, and runs the sample web app and the orders API in this
   * process (server/demo/). For a local http issuer only; see demoProblem below.
   */
  ENOT_DEMO: flag,
  /** Demo mode: the sample web app's port (on the issuer's host). */
  ENOT_DEMO_WEB_PORT: wholeNumber(3001, 1, 65_535),
  /** Demo mode: the orders API's port (on the issuer's host). */
  ENOT_DEMO_API_PORT: wholeNumber(4000, 1, 65_535),
  /** Demo mode with DATABASE_URL: seeding demo data into a PostgreSQL database needs this opt-in. */
  ENOT_DEMO_ALLOW_DATABASE_URL: flag,
  /** The instance's name on every page: the header, the title, the account page's own client. */
  BRAND_NAME: z.string().trim().min(1).max(60).regex(/^[^\p{Cc}]*$/u, 'holds control characters').default('Enot ID'),
  /** The instance's logo: an https URL, or a data:image/png|jpeg|gif|webp;base64 URI (never SVG: it can carry script). */
  BRAND_LOGO_URL: z.string().trim().max(100_000).superRefine((value, ctx) => {
    const problem = logoProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  /** The primary colour (buttons, accents) as #rrggbb or #rgb; the text on it is chosen for WCAG AA contrast. */
  BRAND_COLOR: z.string().trim().regex(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i, 'not a hex colour').optional(),
  /** Where people get help: an https URL or a mailto: address, linked from every page. */
  SUPPORT_URL: z.string().trim().max(2000).superRefine((value, ctx) => {
    const problem = supportProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  /**
   * Where this instance's operators publish Enot ID's documentation (the README, whose
   * "Quick start" section the start page links as #quick-start). Unset: the start page
   * names the README and the docs folder in words; the instance knows no URL for them.
   */
  DOCS_URL: absoluteUrl(['https:', 'http:']).optional(),
  /**
   * OpenTelemetry traces (server/tracing/): the OTLP/HTTP base URL of a collector; spans go
   * to its /v1/traces. Unset, and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT unset too: no tracing,
   * and no OpenTelemetry module is loaded.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: absoluteUrl(['http:', 'https:']).optional(),
  /** The full URL spans are POSTed to (used as it is, no /v1/traces appended); wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: absoluteUrl(['http:', 'https:']).optional(),
  /** OTLP's encoding: the exporter speaks http/json (OTLP/HTTP with JSON bodies) only. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/json']).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/json']).optional(),
  /** `none` turns tracing off with the endpoint still set; `otlp` is the only exporter. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).default('otlp'),
  /** true turns tracing off (the OpenTelemetry specification's switch). */
  OTEL_SDK_DISABLED: flag,
  /** The service.name of every span's resource; unset: service.name from OTEL_RESOURCE_ATTRIBUTES, else enot-id. */
  OTEL_SERVICE_NAME: z.string().trim().min(1).max(255).optional(),
  /** Which traces are recorded (the specification's sampler names); parentbased_*: follow the caller's sampled flag when it sends a traceparent. */
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  /** The ratio of traceidratio samplers, from 0 to 1. */
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .default('1')
    .transform((value, ctx) => {
      const ratio = Number(value.trim());
      if (value.trim() === '' || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
        ctx.addIssue({ code: 'custom', message: 'not a number from 0 to 1' });
        return z.NEVER;
      }
      return ratio;
    }),
  /** Milliseconds between two exports of finished spans (the batch span processor's delay). */
  OTEL_BSP_SCHEDULE_DELAY: wholeNumber(5_000, 10, 600_000),
  NODE_ENV: z.string().default('development'),
});

/** The demo's API: the resource identifier (RFC 8707) of examples/orders-api and its permissions. */
export const DEMO_ORDERS_RESOURCE = { identifier: 'https://orders.example.com', scope: 'orders:read orders:write', accessTokenFormat: 'jwt' as const };

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Why demo mode must not run with this configuration, or undefined. The demo seeds a
 * client with a known id, an account whose sign-in codes are printed, and permissions:
 * harmless on a developer's machine, a back door anywhere else. So only with a plain-http
 * loopback issuer (an https or non-loopback ISSUER is a real deployment; the sample app's
 * http redirect URI is allowed on loopback only, RFC 8252 §7.3), never with
 * NODE_ENV=production, and on PostgreSQL only with an explicit opt-in (a shared database
 * may be someone's real one; the embedded one under DATA_DIR is the developer's own).
 */
function demoProblem(parsed: z.infer<typeof schema>): string | undefined {
  const issuer = new URL(parsed.ISSUER);
  if (parsed.NODE_ENV === 'production') return 'NODE_ENV=production: demo mode seeds a client and an account anyone at this machine can sign in to; unset ENOT_DEMO (and --demo) in production';
  if (issuer.protocol !== 'http:' || !LOOPBACK_HOSTS.test(issuer.hostname)) {
    return `ISSUER=${parsed.ISSUER}: demo mode is for a local http issuer only (an https or public ISSUER is a real deployment); use ISSUER=http://localhost:3000, or unset ENOT_DEMO (and --demo)`;
  }
  if (parsed.DATABASE_URL && !parsed.ENOT_DEMO_ALLOW_DATABASE_URL) {
    return 'DATABASE_URL is set: demo mode would seed a demo client and account into that database; unset DATABASE_URL for the embedded one, or set ENOT_DEMO_ALLOW_DATABASE_URL=true if it is a database of your own for trying things';
  }
  const ports = [parsed.PORT, parsed.ENOT_DEMO_WEB_PORT, parsed.ENOT_DEMO_API_PORT];
  if (new Set(ports).size !== ports.length) return `PORT=${parsed.PORT}, ENOT_DEMO_WEB_PORT=${parsed.ENOT_DEMO_WEB_PORT} and ENOT_DEMO_API_PORT=${parsed.ENOT_DEMO_API_PORT} must differ; use for example 3000, 3001 and 4000`;
  return undefined;
}

/** Every variable the configuration reads. */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

export type Config = ReturnType<typeof toConfig>;
/** Deadlines of the storage clients while serving requests (server/db/connect.ts, server/redis/connect.ts). */
export type StorageTimeouts = Config['storageTimeouts'];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function toConfig(env: z.infer<typeof schema> & { secretsKeys: Buffer[] | undefined }) {
  return {
    issuer: env.ISSUER,
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    databaseUrl: env.DATABASE_URL,
    databaseSchema: env.DATABASE_SCHEMA,
    databasePoolMax: env.DATABASE_POOL_MAX,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    redisWaitReplicas: env.REDIS_WAIT_REPLICAS,
    cookieKeys: env.COOKIE_KEYS,
    trustProxy: env.TRUST_PROXY,
    /** X-Forwarded-For entries taken from the right (koa's maxIpsCount); 0 when no proxy is trusted. */
    proxyHops: env.TRUST_PROXY ? env.TRUST_PROXY_HOPS : 0,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    accessTokenTtl: env.ACCESS_TOKEN_TTL,
    refreshTokenTtl: env.REFRESH_TOKEN_TTL,
    resourceServers: [
      { identifier: env.DEFAULT_RESOURCE, scope: env.DEFAULT_RESOURCE_SCOPES, accessTokenFormat: 'jwt' as const },
      // Enot ID's own API for first-party apps (QR approval), audience ISSUER/api.
      { identifier: `${env.ISSUER}/api`, scope: 'qr-login', accessTokenFormat: 'jwt' as const },
      ...env.RESOURCE_SERVERS.filter((r) => ![env.DEFAULT_RESOURCE, `${env.ISSUER}/api`, `${env.ISSUER}/admin`].includes(r.identifier)),
      // Demo mode: the sample's orders API, unless RESOURCE_SERVERS names it already.
      ...(env.ENOT_DEMO && !env.RESOURCE_SERVERS.some((r) => r.identifier === DEMO_ORDERS_RESOURCE.identifier) ? [DEMO_ORDERS_RESOURCE] : []),
    ],
    appApiResource: `${env.ISSUER}/api`,
    // The admin API (issue 11 §2): bootstrapped on its own (server/rbac/bootstrap.ts),
    // since its permission goes to the role `admin`, never to the default roles.
    adminApiResource: `${env.ISSUER}/admin`,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    defaultResource: env.DEFAULT_RESOURCE,
    defaultRoles: env.DEFAULT_ROLES,
    initialAccessToken: env.INITIAL_ACCESS_TOKEN,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT * 1000,
    storageTimeouts: { commandMs: env.STORAGE_TIMEOUT_MS, connectMs: env.STORAGE_CONNECT_TIMEOUT_MS },
    delivery: {
      smtpUrl: env.SMTP_URL,
      mailFrom: env.MAIL_FROM,
      /** Mailings: messages per minute per process (server/mailings/send.ts). */
      mailingRate: env.MAILING_RATE,
      smsWebhookUrl: env.SMS_WEBHOOK_URL,
      smsWebhookSecret: env.SMS_WEBHOOK_SECRET,
      allowDevOutbox: env.ALLOW_DEV_OUTBOX,
    },
    defaultPhoneRegion: env.DEFAULT_PHONE_REGION,
    codeHmacSecret: env.CODE_HMAC_SECRET,
    metricsToken: env.METRICS_TOKEN,
    deviceCodeTtl: env.DEVICE_CODE_TTL,
    devicePollInterval: env.DEVICE_POLL_INTERVAL,
    production: env.NODE_ENV === 'production',
    secretsKeys: env.secretsKeys,
    demo: env.ENOT_DEMO ? demoSettings(env) : undefined,
    /** OpenTelemetry traces, or undefined: off (server/tracing/). */
    tracing: tracingSettings(env),
    /** What every page shows of the instance (views/brand.ts). */
    brand: {
      name: env.BRAND_NAME,
      logoUrl: env.BRAND_LOGO_URL,
      colors: env.BRAND_COLOR ? brandColors(normalHex(env.BRAND_COLOR)) : undefined,
      supportUrl: env.SUPPORT_URL,
    },
    /** The start page's documentation link (DOCS_URL), or undefined. */
    docsUrl: env.DOCS_URL,
  };
}

/**
 * Where and how traces are exported, or undefined when tracing is off: no endpoint,
 * OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none. The exporter itself reads the rest of
 * the standard OTLP variables (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION,
 * _CERTIFICATE and their _TRACES_ forms), the resource OTEL_RESOURCE_ATTRIBUTES.
 */
function tracingSettings(env: z.infer<typeof schema>) {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base && `${base.replace(/\/+$/, '')}/v1/traces`);
  if (!url || env.OTEL_SDK_DISABLED || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  return {
    url,
    serviceName: env.OTEL_SERVICE_NAME,
    sampler: env.OTEL_TRACES_SAMPLER,
    samplerRatio: env.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
  };
}

/** Where the demo's sample app and orders API answer: on the issuer's own (loopback) host. */
function demoSettings(env: z.infer<typeof schema>) {
  const host = new URL(env.ISSUER).hostname;
  return {
    /** Interface the sample app and the orders API listen on. */
    listenHost: host.replace(/^\[|\]$/g, ''),
    webAppUrl: `http://${host}:${env.ENOT_DEMO_WEB_PORT}`,
    webPort: env.ENOT_DEMO_WEB_PORT,
    ordersApiUrl: `http://${host}:${env.ENOT_DEMO_API_PORT}/orders`,
    apiPort: env.ENOT_DEMO_API_PORT,
    ordersResource: DEMO_ORDERS_RESOURCE.identifier,
  };
}

/** 32-byte keys from their text: 64 hex digits, or base64 / base64url of 32 bytes. */
function parseSecretsKeys(value: string, variable: string): Buffer[] {
  const keys = value.split(',').map((k) => k.trim()).filter(Boolean).map((text) => {
    const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (bytes.length !== 32 || !/^[A-Za-z0-9+/_=-]+$/.test(text)) {
      throw new ConfigError(`invalid configuration: ${variable} must hold 32-byte keys (64 hex digits or base64), comma-separated; generate one with: openssl rand -base64 32`);
    }
    return bytes;
  });
  if (!keys.length) throw new ConfigError(`invalid configuration: ${variable} is empty; generate a key with: openssl rand -base64 32`);
  return keys;
}

function readSecretsKeys(parsed: { SECRETS_KEY?: string; SECRETS_KEY_FILE?: string }): Buffer[] | undefined {
  if (parsed.SECRETS_KEY && parsed.SECRETS_KEY_FILE) throw new ConfigError('invalid configuration: SECRETS_KEY and SECRETS_KEY_FILE are both set; set one of them, not both');
  if (parsed.SECRETS_KEY) return parseSecretsKeys(parsed.SECRETS_KEY, 'SECRETS_KEY');
  if (!parsed.SECRETS_KEY_FILE) return undefined;
  let text: string;
  try {
    text = readFileSync(parsed.SECRETS_KEY_FILE, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : (code ?? 'unreadable');
    throw new ConfigError(`invalid configuration: SECRETS_KEY_FILE=${parsed.SECRETS_KEY_FILE}: cannot be read (${why}); use the path of a file this user can read that holds the key, such as /run/secrets/enot-secrets-key`);
  }
  return parseSecretsKeys(text, 'SECRETS_KEY_FILE');
}

/**
 * Reads and validates the environment; throws ConfigError naming the first bad variable.
 * `flags`: the command line's (`--demo` is ENOT_DEMO=true).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, flags: { demo?: boolean } = {}): Config {
  // Empty strings mean "unset", as most process managers write them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  if (flags.demo) present.ENOT_DEMO = 'true';
  const result = schema.safeParse(present);
  if (!result.success) throw new ConfigError(describeIssue(result.error.issues[0]!, present));
  const parsed = result.data;
  // A hop count without trust would silently do nothing: the operator meant something else.
  if (present.TRUST_PROXY_HOPS !== undefined && !parsed.TRUST_PROXY) {
    throw new ConfigError(`invalid configuration: TRUST_PROXY_HOPS=${present.TRUST_PROXY_HOPS}: needs TRUST_PROXY=true; set TRUST_PROXY=true when the server is behind a proxy, or leave TRUST_PROXY_HOPS unset`);
  }
  // A real deployment must never drop mail or SMS silently into the dev outbox.
  if (parsed.NODE_ENV === 'production' && !parsed.ALLOW_DEV_OUTBOX) {
    if (!parsed.SMTP_URL) throw new ConfigError('invalid configuration: SMTP_URL is required when NODE_ENV=production; use an SMTP URL such as smtps://user:password@smtp.example.com:465 (or set ALLOW_DEV_OUTBOX=true to keep mail in DATA_DIR/outbox)');
    if (!parsed.SMS_WEBHOOK_URL) throw new ConfigError('invalid configuration: SMS_WEBHOOK_URL is required when NODE_ENV=production; use an http or https URL such as https://sms.example.com/hook (or set ALLOW_DEV_OUTBOX=true to keep SMS in DATA_DIR/outbox)');
  }
  const demo = parsed.ENOT_DEMO ? demoProblem(parsed) : undefined;
  if (demo) throw new ConfigError(`invalid configuration: demo mode (ENOT_DEMO or --demo) with ${demo}`);
  return toConfig({ ...parsed, secretsKeys: readSecretsKeys(parsed) });
}
