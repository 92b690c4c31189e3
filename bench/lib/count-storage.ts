// Preloaded into the server (node --import) by bench/lib/roundtrips.ts: counts the
// SQL statements (node-postgres) and Redis commands (ioredis) the process sends,
// and prints the counts as one line `STORAGE-COUNTS {...}` on SIGUSR2.
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
const ioredis = require('ioredis') as { Redis: { prototype: { sendCommand: (...args: unknown[]) => unknown } } };

const counts = { sql: 0, redis: 0, statements: {} as Record<string, number>, commands: {} as Record<string, number>, background: { sql: 0, redis: 0 } };
const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

const inRequest = new AsyncLocalStorage<true>();
const emit = http.Server.prototype.emit as (this: http.Server, ...args: unknown[]) => boolean;
http.Server.prototype.emit = function (this: http.Server, ...args: unknown[]) {
  return args[0] === 'request' ? inRequest.run(true, () => emit.apply(this, args)) : emit.apply(this, args);
} as typeof http.Server.prototype.emit;

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
  if (inRequest.getStore()) {
    counts.sql++;
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    count(counts.statements, String(text).replace(/\s+/g, ' ').slice(0, 60));
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
process.on('SIGUSR2', () => process.stdout.write(`STORAGE-COUNTS ${JSON.stringify(counts)}\n`));
