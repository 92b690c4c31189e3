// Preloaded into the server (node --import) by bench/roundtrips.ts: counts the
// SQL statements (node-postgres) and Redis commands (ioredis) the process sends,
// and prints the counts as one line `STORAGE-COUNTS {...}` on SIGUSR2.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve(import.meta.dirname, '../../package.json'));
const pg = require('pg') as { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
const ioredis = require('ioredis') as { Redis: { prototype: { sendCommand: (...args: unknown[]) => unknown } } };

const counts = { sql: 0, redis: 0, statements: {} as Record<string, number>, commands: {} as Record<string, number> };
const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
  counts.sql++;
  const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
  count(counts.statements, String(text).replace(/\s+/g, ' ').slice(0, 60));
  return query.apply(this, args);
};
const sendCommand = ioredis.Redis.prototype.sendCommand;
ioredis.Redis.prototype.sendCommand = function (this: unknown, ...args: unknown[]) {
  counts.redis++;
  count(counts.commands, String((args[0] as { name?: string } | undefined)?.name));
  return sendCommand.apply(this, args);
};
process.on('SIGUSR2', () => process.stdout.write(`STORAGE-COUNTS ${JSON.stringify(counts)}\n`));
