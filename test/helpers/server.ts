// Starts a real server in this process on its own port and storage.
import { loadConfig } from '../../server/config/index.ts';
import { createLogger, type Logger } from '../../server/logging/logger.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../server/server.ts';
import { testEnvironment, type TestEnvironment } from './environment.ts';

export interface TestServer extends RunningServer {
  issuer: string;
  environment: TestEnvironment;
  /** Stops the server and deletes its storage. */
  stop(): Promise<void>;
}

export async function startTestServer(
  overrides: Record<string, string> = {},
  environment?: TestEnvironment,
  options: ServerOptions = {},
  logger: Logger = createLogger('silent'),
): Promise<TestServer> {
  const env = environment ?? (await testEnvironment(overrides));
  const config = loadConfig(env.env);
  const server = await startServer(config, logger, options);
  return {
    ...server,
    issuer: config.issuer,
    environment: env,
    async stop() {
      await server.close();
      if (!environment) await env.cleanup();
    },
  };
}
