// Entry point: configuration, server, graceful shutdown.
import { enableCompileCache } from 'node:module';
import v8 from 'node:v8';
import { ConfigError, loadConfig } from './config/index.ts';
import { createLogger } from './logging/logger.ts';
import type { RunningDemo } from './demo/run.ts';

function fail(message: string): never {
  process.stderr.write(`enot-id: ${message}\n`);
  process.exit(1);
}

// The one argument: --demo, as ENOT_DEMO=true (server/demo/).
const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--demo');
if (unknown.length) fail(`unknown argument ${unknown[0]}; the only one is --demo (npm start -- --demo)`);

// Node's on-disk cache of compiled code (os.tmpdir()/node-compile-cache, or
// NODE_COMPILE_CACHE): the server's modules, loaded below, are compiled once per
// version and file, so a later start spends less time parsing (issue 15, start-up).
// Where the directory cannot be written (a read-only filesystem), Node goes without.
enableCompileCache();

let config;
try {
  // The environment is read in one place, server/config/ (loadConfig reads it by default).
  config = loadConfig(undefined, { demo: args.includes('--demo') });
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}

// Readable lines at a terminal, JSON otherwise (LOG_FORMAT; server/logging/pretty.ts).
const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true);
const logger = createLogger(config.logLevel, pretty ? { destination: (await import('./logging/pretty.ts')).prettyDestination() } : {});
const started = performance.now();
// Traces (OTEL_EXPORTER_OTLP_ENDPOINT): started before the storage clients and node:http
// load, so that its hooks see them (server/tracing/start.ts); without an endpoint no
// OpenTelemetry module is loaded at all.
const tracing = config.tracing ? (await import('./tracing/start.ts')).startTracing(config.tracing) : undefined;
const { openEmbeddedStorage } = await import('./db/embedded-storage.ts');
// The embedded PostgreSQL starts (on a fresh DATA_DIR: is created) while the rest of
// the server loads: the two take about as long, and overlap (issue 15, start-up).
const embedded = config.databaseUrl ? undefined : openEmbeddedStorage(config.dataDir);
embedded?.catch(() => {}); // reported by startServer, which awaits it
if (embedded) {
  // The embedded mode is the small install (issue 15: at most 300 MB PSS under load,
  // its PostgreSQL included). V8 lets the heap grow up to 4× what survived the last
  // full collection before collecting again; under load that was 160–180 MB of heap
  // for 45 MB alive. 1.5× keeps it near 70 MB, at the cost of more frequent (short)
  // full collections: docs/performance.md, "Memory under load". Server mode keeps
  // V8's default, which favours throughput. V8 reads the flag at every collection.
  v8.setFlagsFromString('--heap-growing-percent=50');
}
const { startServer } = await import('./server.ts');
const print = (line: string) => process.stdout.write(`${line}\n`);
// Loaded only in demo mode: it runs the examples, whose openid-client is a dev dependency.
const demoMode = config.demo ? await import('./demo/run.ts') : undefined;
let server;
let demo: RunningDemo | undefined;
try {
  server = await startServer(config, logger, { embedded, ...(demoMode && { onMessageSent: (message) => print(demoMode.describeMessage(message)) }) });
} catch (err) {
  fail(`could not start: ${(err as Error).message}`);
}
if (demoMode && config.demo) {
  try {
    demo = await demoMode.startDemo(server, { ...config, demo: config.demo }, print);
  } catch (err) {
    await server.close().catch(() => {});
    fail(`could not start: ${(err as Error).message}`);
  }
}

// Graceful shutdown is in place before the line that says the server is up: whoever
// waits for that line and then sends SIGTERM must never meet Node's default action
// (exit by the signal, no drain; seen in CI on a loaded machine).
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    Promise.all([demo?.close(), server.close()]).then(() => tracing?.shutdown()).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

logger.info(
  { url: server.url, issuer: config.issuer, storage: config.databaseUrl ? 'postgresql' : 'embedded', redis: !!config.redisUrl, startupMs: Math.round(performance.now() - started) },
  'enot-id listening',
);
