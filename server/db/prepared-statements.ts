// Named prepared statements for the embedded PostgreSQL's serving pool.
//
// node-postgres sends every statement unnamed by default: PostgreSQL parses and
// plans it again on each execution. On the embedded mode's hot paths (refresh,
// introspection, userinfo, sign-in) parsing and planning were most of the embedded
// server's CPU (perf: base_yyparse, the planner's tree copies and catalogue lookups;
// docs/performance.md). A named statement is parsed once per connection and, after
// five executions, runs a cached generic plan (PostgreSQL's plan_cache_mode=auto).
//
// Only where Enot ID owns the server: behind PgBouncer's transaction pooling (server
// mode, docs/postgresql.md) a statement prepared on one server connection is unknown
// on the next, so DATABASE_URL pools keep unnamed statements.
//
// A statement gets a name once this process has sent the same text HOT_AFTER times,
// so one-off statements (start-up, the admin API's lists with IN lists of every length)
// never take a slot in a connection's memory; at most MAX_NAMED texts are named per
// process, and at most MAX_COUNTED texts are counted before the count starts again.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const HOT_AFTER = 3;
const MAX_NAMED = 200;
const MAX_COUNTED = 2_000;

/** What knex hands its PostgreSQL client for each statement (knex/lib/dialects/postgres: _query). */
interface CompiledQuery {
  sql?: string;
  options?: Record<string, unknown>;
}

interface PostgresClient {
  _query(connection: unknown, obj: CompiledQuery): Promise<unknown>;
}

// knex's PostgreSQL dialect, to extend: `client: 'pg'` names this class. A subclass rather
// than a wrapper on one client object, because a transaction's client is made from the
// class's prototype (knex/lib/execution/transaction.js: makeTxClient).
const require = createRequire(import.meta.url);
const PostgresDialect = require('knex/lib/dialects/postgres/index.js') as new (config: unknown) => PostgresClient;

/** Decides, per statement text, whether to send it named, and under which name. */
export function statementNamer(limits = { hotAfter: HOT_AFTER, maxNamed: MAX_NAMED, maxCounted: MAX_COUNTED }) {
  const named = new Map<string, string>();
  const seen = new Map<string, number>();
  return (sql: string): string | undefined => {
    const name = named.get(sql);
    if (name !== undefined) return name;
    if (named.size >= limits.maxNamed) return undefined;
    const count = (seen.get(sql) ?? 0) + 1;
    if (count < limits.hotAfter) {
      if (seen.size >= limits.maxCounted) seen.clear();
      seen.set(sql, count);
      return undefined;
    }
    seen.delete(sql);
    // The text's digest: the same text always gets the same name, in every connection.
    const fresh = `enot_${createHash('sha256').update(sql).digest('base64url').slice(0, 24)}`;
    named.set(sql, fresh);
    return fresh;
  };
}

/** A knex client class (for knex's `client` option) whose pool sends its frequent statements named. */
export function preparingPostgresClient(): new (config: unknown) => unknown {
  const nameOf = statementNamer();
  return class PreparingPostgresClient extends PostgresDialect {
    override _query(connection: unknown, obj: CompiledQuery): Promise<unknown> {
      const name = obj.sql ? nameOf(obj.sql) : undefined;
      return super._query(connection, name ? { ...obj, options: { ...obj.options, name } } : obj);
    }
  };
}
