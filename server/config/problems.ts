// Configuration errors in plain words (issue 12 §5): the variable, the value
// (hidden when it is a secret, its password hidden when it is a URL), what is
// wrong with it, and what would do, e.g.
//   DEFAULT_PHONE_REGION=XX: not a country code libphonenumber knows; use a two-letter ISO 3166 code such as DE or US
// never the validator's own text ("Too small: expected number to be >=60").
import type { z } from 'zod';
import { withoutPassword } from '../errors/connection.ts';

const RANDOM = 'such as the output of: openssl rand -base64 32';

/** What a good value looks like, per variable: the part after the semicolon. */
export const HINTS: Record<string, string> = {
  ISSUER: 'use the URL people and apps reach this server at, such as http://localhost:3000 or https://id.example.com (no path, no #)',
  PORT: 'use a TCP port from 0 to 65535, such as 3000',
  HOST: 'use an interface address such as 0.0.0.0 or 127.0.0.1',
  DATA_DIR: 'use a directory such as ./data',
  DATABASE_URL: 'use a PostgreSQL URL such as postgres://enot:secret@db.example.com:5432/enot, or leave it unset for the embedded database',
  DATABASE_SCHEMA: 'use a lower-case SQL name (letters, digits, _) such as public or enot',
  DATABASE_POOL_MAX: 'use a number of connections from 1 to 1000, such as 10',
  REDIS_URL: 'use a Redis URL such as redis://localhost:6379 or rediss://:secret@redis.example.com:6380, a cluster such as redis+cluster://redis-1:6379,redis-2:6379, Sentinels such as redis+sentinel://sentinel-1:26379,sentinel-2:26379/mymaster, or leave it unset',
  REDIS_WAIT_REPLICAS: 'use a whole number from 0 to 5, such as 1 with Sentinel or a cluster with replicas',
  REDIS_PREFIX: 'use 1 to 64 of A-Z a-z 0-9 : _ -, such as enot:',
  COOKIE_KEYS: `use comma-separated random keys of at least 32 characters each, ${RANDOM}, or leave it unset`,
  TRUST_PROXY: 'use true or false',
  TRUST_PROXY_HOPS: 'use the number of proxies in front of the server, from 1 to 10, such as 1',
  LOG_LEVEL: 'use a pino level, such as info (fatal, error, warn, info, debug, trace or silent)',
  LOG_FORMAT: 'use auto (readable at a terminal, JSON otherwise), json or pretty',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'use the OTLP/HTTP URL of a collector such as http://otel-collector:4318, or leave it unset for no traces',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'use the full URL spans go to, such as http://otel-collector:4318/v1/traces, or leave it unset',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'use http/json (OTLP over HTTP with JSON, the only one Enot ID sends), or leave it unset',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'use http/json (OTLP over HTTP with JSON, the only one Enot ID sends), or leave it unset',
  OTEL_TRACES_EXPORTER: 'use otlp or none',
  OTEL_SDK_DISABLED: 'use true or false',
  OTEL_SERVICE_NAME: 'use a service name such as enot-id',
  OTEL_TRACES_SAMPLER: 'use a sampler such as parentbased_always_on or parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: 'use a ratio from 0 to 1 such as 0.25',
  OTEL_BSP_SCHEDULE_DELAY: 'use milliseconds from 10 to 600000, such as 5000',
  ACCESS_TOKEN_TTL: 'use seconds from 60 to 86400, such as 900 (15 minutes)',
  REFRESH_TOKEN_TTL: 'use seconds from 300 to 31536000, such as 604800 (7 days)',
  DEFAULT_RESOURCE: 'use an absolute URI without #, such as urn:enot-id:api or https://api.example.com',
  DEFAULT_RESOURCE_SCOPES: 'use space-separated scopes such as api:read api:write',
  RESOURCE_SERVERS: 'use a JSON array such as [{"identifier":"https://orders.example.com","scope":"orders:read orders:write"}] ("accessTokenFormat" may be "jwt" or "opaque")',
  DEFAULT_ROLES: 'use comma-separated role names of lower-case letters, digits and _ : . - (such as user or user,support:read), or none',
  AUDIT_RETENTION_DAYS: 'use days from 1 to 36500, such as 365',
  INITIAL_ACCESS_TOKEN: `use a random string of at least 32 characters, ${RANDOM}`,
  SMTP_URL: 'use an SMTP URL such as smtps://user:password@smtp.example.com:465, or leave it unset for the dev outbox',
  MAIL_FROM: 'use a sender such as Enot ID <no-reply@example.com>',
  SMS_WEBHOOK_URL: 'use an http or https URL such as https://sms.example.com/hook, or leave it unset for the dev outbox',
  SMS_WEBHOOK_SECRET: `use a random string of at least 32 characters, ${RANDOM}`,
  ALLOW_DEV_OUTBOX: 'use true or false',
  DEFAULT_PHONE_REGION: 'use a two-letter ISO 3166 code such as DE or US',
  CODE_HMAC_SECRET: `use a random string of at least 32 characters, ${RANDOM}, or leave it unset`,
  DEVICE_CODE_TTL: 'use seconds from 60 to 3600, such as 600',
  DEVICE_POLL_INTERVAL: 'use seconds from 1 to 60, such as 5',
  METRICS_TOKEN: `use a random string of at least 32 characters, ${RANDOM}`,
  SHUTDOWN_TIMEOUT: 'use seconds from 0 to 300, such as 10',
  STORAGE_TIMEOUT_MS: 'use milliseconds from 100 to 60000, such as 2000',
  STORAGE_CONNECT_TIMEOUT_MS: 'use milliseconds from 100 to 60000, such as 2000',
  SECRETS_KEY_FILE: 'use the path of a file that holds the key',
  ENOT_DEMO: 'use true or false',
  ENOT_DEMO_WEB_PORT: 'use a TCP port from 1 to 65535, such as 3001',
  ENOT_DEMO_API_PORT: 'use a TCP port from 1 to 65535, such as 4000',
  ENOT_DEMO_ALLOW_DATABASE_URL: 'use true or false',
  BRAND_NAME: 'use a short name of 1 to 60 characters, such as Example ID',
  BRAND_LOGO_URL: 'use an https URL such as https://example.com/logo.png, or a data:image/png;base64,… URI',
  BRAND_COLOR: 'use a hex colour such as #2b59c3 or #25c',
  SUPPORT_URL: 'use an https URL such as https://example.com/help, or an address such as mailto:help@example.com',
  DOCS_URL: 'use the URL of the published README such as https://git.example.com/enot-id/README.md, or leave it unset',
  MAILING_RATE: 'use messages per minute from 1 to 600000, such as 600',
};

/** Variables whose value is never repeated in a message: it is a secret. */
const SECRET = new Set(['COOKIE_KEYS', 'INITIAL_ACCESS_TOKEN', 'SMS_WEBHOOK_SECRET', 'CODE_HMAC_SECRET', 'METRICS_TOKEN', 'SECRETS_KEY']);

/** `NAME=value`, or `NAME (value hidden)` for a secret; long values are cut. */
export function named(variable: string, value: string | undefined): string {
  if (value === undefined) return variable;
  if (SECRET.has(variable)) return `${variable} (value hidden)`;
  const shown = withoutPassword(value);
  return `${variable}=${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`;
}

/** The problem of one zod issue in plain words (the schema's own messages already are). */
function problem(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 1 ? `${describePath(issue.path.slice(1))}: ` : '';
  switch (issue.code) {
    case 'too_small':
      if (issue.origin === 'string') return `${where}${issue.message.startsWith('Too small') ? `shorter than ${String(issue.minimum)} characters` : issue.message}`;
      if (issue.origin === 'array') return `${where}empty`;
      return `${where}less than ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `${where}longer than ${String(issue.maximum)} characters`;
      return `${where}more than ${String(issue.maximum)}`;
    case 'invalid_value':
      return `${where}not one of ${issue.values.map(String).filter(Boolean).join(', ')}`;
    case 'invalid_type': {
      const expected = `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
      return where ? `${where}missing or not ${expected}` : `not ${expected}`;
    }
    case 'unrecognized_keys':
      return `${where}unknown ${issue.keys.length > 1 ? 'keys' : 'key'} ${issue.keys.join(', ')}`;
    default:
      // custom and invalid_format issues carry the schema's own plain words.
      return `${where}${issue.message}`;
  }
}

/** RESOURCE_SERVERS' [0, 'identifier'] → entry 1, "identifier". */
function describePath(path: PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `entry ${part + 1}` : `"${String(part)}"`)).join(' ');
}

/** One line: `invalid configuration: NAME=value: problem; hint`. */
export function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const variable = String(issue.path[0] ?? 'environment');
  const hint = HINTS[variable];
  return `invalid configuration: ${named(variable, env[variable])}: ${problem(issue)}${hint ? `; ${hint}` : ''}`;
}
