// Preloaded into the server (node --import) by bench/lib/roundtrips.ts: counts the
// SQL statements (node-postgres) and Redis commands (ioredis) the process sends,
// and prints the counts as one line `STORAGE-COUNTS {...}` on SIGUSR2.
// It also keeps, for each distinct SQL text sent on behalf of a request, the
// bound values of its first use, and on SIGUSR2 prints those first seen since
// the last signal as `STORAGE-STATEMENTS {key: {id, text, values}}` (before the
// counts line), so bench/lib/plans.ts can EXPLAIN every statement as it was sent;
// the counts give each statement's uses by that id (`byId`), which tells exactly
// which scenario sent it (the 60-character names may be alike).
//
// Only what is sent on behalf of an HTTP request is counted as the request's
// (`sql`, `redis`): each request runs in an AsyncLocalStorage context, which
// follows it through awaits, callbacks and work it leaves running after the
// response. The server's own timers (job queue polling, the purge, the signing
// key check) run outside any request and are counted apart (`background`), so
// they cannot make a request look more expensive than it is.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve(import.meta.dirname, '../../package.json'));
const pg = require('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
// node-postgres's own conversion of a bound value to the text it sends (dates with
// their offset, arrays as array literals, objects as JSON), so a sample replays exactly.
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };
const ioredis = require('ioredis') as { Redis: { prototype: { sendCommand: (...args: unknown[]) => unknown } } };

const counts = {
  sql: 0, redis: 0, statements: {} as Record<string, number>, byId: {} as Record<string, number>, commands: {} as Record<string, number>, background: { sql: 0, redis: 0 },
};
const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

/** A statement's first use: its text as sent and its bound values as text (bytea as `\\x…`), for a later EXPLAIN. */
interface Sample {
  id: number;
  text: string;
  values: (string | null)[];
}
/** Statement key → id, in the order first seen. */
const ids = new Map<string, number>();
let unprinted: Record<string, Sample> = {};
const asText = (value: unknown): string | null => {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return null;
  return Buffer.isBuffer(prepared) ? `\\x${prepared.toString('hex')}` : String(prepared);
};
function idOf(key: string, text: string, values: unknown): number {
  let id = ids.get(key);
  if (id === undefined) {
    id = ids.size;
    ids.set(key, id);
    unprinted[key] = { id, text, values: Array.isArray(values) ? values.map(asText) : [] };
  }
  return id;
}

const inRequest = new AsyncLocalStorage<true>();
const emit = http.Server.prototype.emit as (this: http.Server, ...args: unknown[]) => boolean;
http.Server.prototype.emit = function (this: http.Server, ...args: unknown[]) {
  return args[0] === 'request' ? inRequest.run(true, () => emit.apply(this, args)) : emit.apply(this, args);
} as typeof http.Server.prototype.emit;

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
  if (inRequest.getStore()) {
    counts.sql++;
    // query(text, values?, callback?) or query({ text, values }) (knex, pg-boss).
    const config = typeof args[0] === 'string' ? { text: args[0], values: args[1] } : (args[0] as { text?: string; values?: unknown } | undefined);
    // The key of a statement everywhere (here, bench/lib/roundtrips.ts, bench/lib/plans.ts): its text with runs of white space as one space.
    const key = String(config?.text).replace(/\s+/g, ' ');
    count(counts.statements, key.slice(0, 60));
    if (typeof config?.text === 'string') count(counts.byId, String(idOf(key, config.text, config.values)));
  } else {
    counts.background.sql++;
  }
  return query.apply(this, args);
};
const sendCommand = ioredis.Redis.prototype.sendCommand;
ioredis.Redis.prototype.sendCommand = function (this: unknown, ...args: unknown[]) {
  if (inRequest.getStore()) {
    counts.redis++;
    count(counts.commands, String((args[0] as { name?: string } | undefined)?.name));
  } else {
    counts.background.redis++;
  }
  return sendCommand.apply(this, args);
};
process.on('SIGUSR2', () => {
  // Only what is new, so that the log (read again after every repetition) stays small.
  if (Object.keys(unprinted).length) process.stdout.write(`STORAGE-STATEMENTS ${JSON.stringify(unprinted)}\n`);
  unprinted = {};
  process.stdout.write(`STORAGE-COUNTS ${JSON.stringify(counts)}\n`);
});
