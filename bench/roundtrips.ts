// How many SQL statements and Redis commands Enot ID sends per request (or per
// whole sign-in) of each benchmark scenario (bench/lib/roundtrips.ts): every
// scenario is repeated 20 times, one request at a time. Server mode when
// DATABASE_URL and REDIS_URL are set; embedded mode (the embedded PostgreSQL,
// no Redis: only SQL) when neither is. test/storage-budget.test.ts holds these
// figures to bench/storage-budget.ts.
//
//   [DATABASE_URL=… REDIS_URL=…] node bench/roundtrips.ts [--detail] [--repeat N]
import { parseArgs } from 'node:util';
import { benchEnvironment } from './lib/environment.ts';
import { SCENARIOS, measureRoundTrips } from './lib/roundtrips.ts';

const { values } = parseArgs({ options: { detail: { type: 'boolean', default: false }, repeat: { type: 'string', default: '20' } } });
const { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl } = process.env;
if (Boolean(databaseUrl) !== Boolean(redisUrl)) throw new Error('set both DATABASE_URL and REDIS_URL (server mode) or neither (embedded mode)');
const mode = databaseUrl ? 'server' : 'embedded';
const repeat = Number(values.repeat);

const environment = await benchEnvironment(mode, { databaseUrl, redisUrl });
try {
  const rows = await measureRoundTrips({ storage: environment.storage, repeat });
  const lines = [`${mode} mode, per request (or per whole sign-in), median (mean) of ${repeat}:`];
  const figure = (median: number, mean: number) => `${String(median).padStart(3)} (${mean.toFixed(1).padStart(5)})`;
  const list = (table: Record<string, number>) => Object.entries(table).map(([k, v]) => `${v}× ${k}`).join('; ');
  for (const row of rows) {
    lines.push(`${SCENARIOS[row.scenario].padEnd(30)} ${figure(row.sql, row.sqlMean)} SQL  ${figure(row.redis, row.redisMean)} Redis`);
    if (values.detail) lines.push(`    SQL: ${list(row.statements)}`, `    Redis: ${list(row.commands)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await environment.cleanup();
}
