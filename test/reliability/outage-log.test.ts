// During a storage outage the log gets one warning per store per window with the
// count of the others, not an error line per failed request; and errors never
// carry the data they were about (server/logging/).
import test from 'ava';
import { createLogger } from '../../server/logging/logger.ts';

const WINDOW_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }, outageWindowMs: WINDOW_MS });
  return { logger, lines };
}

const redisDown = () => new Error('Command timed out');
const postgresDown = () => Object.assign(new Error('select "payload" from "clients" where "id" = $1 limit $2 - Query read timeout'), { name: 'Error' });

test('an outage is logged at warn, once per store per window, with the count of the rest', async (t) => {
  const { logger, lines } = capture();
  for (let i = 0; i < 50; i++) logger.error({ err: redisDown(), reqId: `r${i}`, route: 'token' }, 'oidc-provider server error');
  for (let i = 0; i < 30; i++) logger.warn({ err: postgresDown(), reqId: `p${i}`, path: '/interaction/x' }, 'storage unavailable');

  // At once: the first failure of each store, in full, at warn, with its request.
  t.is(lines.length, 2, JSON.stringify(lines));
  t.like(lines[0], { level: 40, msg: 'storage unavailable', dependency: 'redis', reqId: 'r0', route: 'token', err: { message: 'Command timed out' } });
  t.like(lines[1], { level: 40, msg: 'storage unavailable', dependency: 'database', reqId: 'p0', path: '/interaction/x' });
  t.true(String((lines[0]!.err as { stack?: string }).stack).includes('Command timed out'));

  // The window's end: how many more there were.
  await sleep(WINDOW_MS + 100);
  t.is(lines.length, 4, JSON.stringify(lines));
  const summaries = lines.slice(2).sort((a, b) => String(a.dependency).localeCompare(String(b.dependency)));
  t.like(summaries[0], { level: 40, msg: 'storage still unavailable', dependency: 'database', suppressed: 29, windowMs: WINDOW_MS });
  t.like(summaries[1], { level: 40, msg: 'storage still unavailable', dependency: 'redis', suppressed: 49, lastError: 'Command timed out' });

  // Nothing in the next window: no line; once quiet, the next failure is written at once again.
  await sleep(WINDOW_MS + 100);
  t.is(lines.length, 4);
  logger.error({ err: redisDown(), reqId: 'again' }, 'oidc-provider server error');
  t.like(lines[4], { level: 40, dependency: 'redis', reqId: 'again' });
  t.false(lines.some((l) => (l.level as number) >= 50), 'nothing at error level');
});

test('other errors are logged as before: at their level, each one', (t) => {
  const { logger, lines } = capture();
  for (let i = 0; i < 3; i++) logger.error({ err: new TypeError('x is undefined'), reqId: `b${i}` }, 'unhandled error');
  logger.info({ err: redisDown() }, 'below warn, left as it is');
  t.is(lines.length, 4);
  t.like(lines[0], { level: 50, msg: 'unhandled error', reqId: 'b0', err: { type: 'TypeError', message: 'x is undefined' } });
  t.like(lines[3], { level: 30, msg: 'below warn, left as it is' });
});

test('an error is logged without the data it carries: parameters, row values, command arguments', (t) => {
  const { logger, lines } = capture();
  const secret = 'refresh-token-0123456789abcdef';
  // A driver's statement parameters; PostgreSQL: the row's values; ioredis: the command's arguments.
  const sql = Object.assign(new Error('insert into "oidc_models" … - unsupported Unicode escape sequence'), {
    code: '22P05',
    params: [secret],
    query: 'insert …',
    detail: `Key (id)=(${secret}) already exists.`,
    where: `JSON data, line 1: ...${secret}`,
  });
  const redis = Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), {
    name: 'ReplyError',
    command: { name: 'hgetall', args: [`enot:RefreshToken:${secret}`] },
  });
  logger.error({ err: sql }, 'unhandled error');
  logger.error({ err: new Error('wrapped', { cause: redis }) }, 'unhandled error');
  logger.error(redis, 'passed as the first argument');
  const text = JSON.stringify(lines);
  t.is(lines.length, 3);
  t.false(text.includes(secret), text);
  t.like(lines[0], { err: { message: 'insert into "oidc_models" … - unsupported Unicode escape sequence' } });
  t.like(lines[1], { err: { message: 'wrapped', cause: { message: 'WRONGTYPE Operation against a key holding the wrong kind of value' } } });
});
