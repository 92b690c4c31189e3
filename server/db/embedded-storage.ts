// The embedded storage of one Enot ID process: DATA_DIR's lock (./embedded-lock.ts)
// and the PostgreSQL under it (./embedded-postgres.ts), held and stopped together.
// A module of its own, light to import: server/main.ts starts it before it loads the
// rest of the server, so the two overlap.
import { lockEmbeddedDatabase } from './embedded-lock.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';

/** The embedded PostgreSQL of DATA_DIR, with DATA_DIR's lock held until it is stopped. */
export type EmbeddedStorage = EmbeddedPostgres;

/** Takes DATA_DIR's lock (one Enot ID process per embedded DATA_DIR) and starts its PostgreSQL. */
export async function openEmbeddedStorage(dataDir: string): Promise<EmbeddedStorage> {
  const unlock = lockEmbeddedDatabase(dataDir);
  let embedded: EmbeddedPostgres;
  try {
    embedded = await startEmbeddedPostgres(dataDir);
  } catch (err) {
    unlock();
    throw err;
  }
  return {
    ...embedded,
    async stop() {
      try {
        await embedded.stop();
      } finally {
        unlock();
      }
    },
  };
}
