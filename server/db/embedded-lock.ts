import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from './local-os.ts';

/**
 * One Enot ID process owns an embedded DATA_DIR: it starts the PostgreSQL there
 * (./embedded-postgres.ts) and stops it when it stops, which would pull the database
 * from under a second process. Beside a running server the CLI goes through its
 * admin API (server/cli/admin.ts). Takes DATA_DIR/pg.lock (stale locks of dead processes are replaced); returns the release function.
 */
export function lockEmbeddedDatabase(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = path.resolve(dataDir, 'pg.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new Error(
          `the embedded database in ${dataDir} is in use by process ${owner}; stop it first (or use DATABASE_URL for several processes)`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock the embedded database in ${dataDir}`);
}

/** The live process holding DATA_DIR/pg.lock, if any (a stale lock of a dead process is none). */
export function embeddedLockHolder(dataDir: string): number | undefined {
  let owner: number;
  try {
    owner = Number(readFileSync(path.resolve(dataDir, 'pg.lock'), 'utf8'));
  } catch {
    return undefined;
  }
  return owner && owner !== process.pid && processAlive(owner) ? owner : undefined;
}
