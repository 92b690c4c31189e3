// pg-boss on the embedded PGlite, through knex's one pooled connection.
// PGlite is a single session: a statement sent to it while knex holds it for a
// transaction would run inside that transaction (and pg-boss's own BEGIN … COMMIT
// blocks would end it). Taking the connection from knex's pool (size 1) for each
// pg-boss statement queues it behind any open transaction instead.
// Goes with PGlite (issue 15): an embedded real PostgreSQL uses the server-mode pool.
import { fromPglite, type Db as IDatabase, type PGliteLike } from 'pg-boss';
import type { Knex } from 'knex';

interface PooledClient {
  acquireConnection(): Promise<PGliteLike>;
  releaseConnection(connection: PGliteLike): Promise<void>;
}

export function embeddedJobDatabase(db: Knex): IDatabase {
  const client = db.client as unknown as PooledClient;
  return {
    async executeSql(text, values) {
      const connection = await client.acquireConnection();
      try {
        // fromPglite sends statements with parameters through query() and
        // parameterless multi-statement blocks (migrations) through exec().
        return await fromPglite(connection).executeSql(text, values);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}
