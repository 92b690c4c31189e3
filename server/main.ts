// Entry point: configuration, server, graceful shutdown.
import { ConfigError, loadConfig } from './config/index.ts';
import { createLogger } from './logging/logger.ts';
import { startServer } from './server.ts';

function fail(message: string): never {
  process.stderr.write(`enot-id: ${message}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig();
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err));
}

const logger = createLogger(config.logLevel);
const started = performance.now();
let server;
try {
  server = await startServer(config, logger);
} catch (err) {
  fail(`could not start: ${(err as Error).message}`);
}
logger.info(
  { url: server.url, issuer: config.issuer, storage: config.databaseUrl ? 'postgresql' : 'embedded', redis: !!config.redisUrl, startupMs: Math.round(performance.now() - started) },
  'enot-id listening',
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
