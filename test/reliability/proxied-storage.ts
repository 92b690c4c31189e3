// PostgreSQL and Redis behind TCP proxies the test controls (cut, freeze), in a
// test environment of their own: what every storage-loss test starts from.
import { testEnvironment, type TestEnvironment } from '../helpers/environment.ts';
import { endpointOf, startTcpProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

export interface ProxiedStorage {
  environment: TestEnvironment;
  pgProxy: TcpProxy;
  redisProxy: TcpProxy;
  /** Removes the test's schema and keys directly (not through the proxies), then closes the proxies. */
  cleanup(): Promise<void>;
}

export async function proxiedStorage(urls: { databaseUrl: string; redisUrl: string }, overrides: Record<string, string>): Promise<ProxiedStorage> {
  const pgProxy = await startTcpProxy(endpointOf(urls.databaseUrl, 5432));
  const redisProxy = await startTcpProxy(endpointOf(urls.redisUrl, 6379));
  const environment = await testEnvironment(overrides);
  environment.env.DATABASE_URL = viaProxy(urls.databaseUrl, pgProxy);
  environment.env.REDIS_URL = viaProxy(urls.redisUrl, redisProxy);
  return {
    environment,
    pgProxy,
    redisProxy,
    async cleanup() {
      environment.env.DATABASE_URL = urls.databaseUrl;
      environment.env.REDIS_URL = urls.redisUrl;
      await environment.cleanup();
      await pgProxy.close();
      await redisProxy.close();
    },
  };
}
