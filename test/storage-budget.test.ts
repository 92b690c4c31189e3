// The storage round trips of each hot path stay within bench/storage-budget.ts:
// a change that adds SQL statements or Redis commands to a request fails here,
// not only in the benchmark. The server runs as a child process with the
// counting preload (bench/lib/roundtrips.ts); counts, not times, are asserted.
import test from 'ava';
import { SCENARIOS, measureRoundTrips, type RoundTripRow } from '../bench/lib/roundtrips.ts';
import { STORAGE_BUDGET } from '../bench/storage-budget.ts';
import { testEnvironment } from './helpers/environment.ts';

// Odd, so the median is one repetition's count; small, to keep the test short.
const REPEAT = 5;
const { DATABASE_URL, REDIS_URL } = process.env;
const mode = DATABASE_URL && REDIS_URL ? 'server' : 'embedded';
const list = (table: Record<string, number>) => Object.entries(table).map(([k, v]) => `${v}× ${k}`).join('; ') || 'none';

function describe(row: RoundTripRow, kind: 'sql' | 'redis', budget: number): string {
  const seen = kind === 'sql' ? `statements: ${list(row.statements)}` : `commands: ${list(row.commands)}`;
  return `${SCENARIOS[row.scenario]} (${mode} mode): ${row[kind]} ${kind === 'sql' ? 'SQL statements' : 'Redis commands'} per request, budget ${budget}; ${seen}`;
}

// The budget is per mode; with only one of the two set, the server would mix them.
if (Boolean(DATABASE_URL) !== Boolean(REDIS_URL)) {
  test.skip('storage round trips within budget: skipped, DATABASE_URL and REDIS_URL must be set together', () => {});
} else {
  test(`storage round trips of each hot path are within bench/storage-budget.ts (${mode} mode)`, async (t) => {
    t.timeout(180_000);
    const environment = await testEnvironment();
    t.teardown(() => environment.cleanup());
    const rows = await measureRoundTrips({ storage: environment.env, repeat: REPEAT });
    const budget = STORAGE_BUDGET[mode];
    t.deepEqual(rows.map((r) => r.scenario), Object.keys(budget), 'every budgeted scenario was measured');
    for (const row of rows) {
      for (const kind of ['sql', 'redis'] as const) {
        const allowed = budget[row.scenario][kind];
        t.true(row[kind] <= allowed, `over budget: ${describe(row, kind, allowed)}`);
        // A scenario that has to reach storage is seen to: the counting itself still works.
        if (allowed > 0) t.true(row[kind] > 0, `nothing counted (is the counting preload broken?): ${describe(row, kind, allowed)}`);
        if (row[kind] < allowed) t.log(`below budget: ${describe(row, kind, allowed)}`);
      }
    }
  });
}
