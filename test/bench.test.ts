// `npm run bench -- --quick` so the benchmark harness cannot rot: every
// scenario runs for about a second, embedded only. No timing is asserted
// (this machine is shared); only that every scenario ran, without errors.
import test from 'ava';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, run } from './helpers/process.ts';

const SCENARIOS = [
  'client-credentials', 'introspection-jwt', 'introspection-opaque', 'refresh', 'password-sign-in', 'code-sign-in', 'discovery', 'jwks', 'userinfo',
];

interface Measured {
  requests: number;
  rate: number;
  errors: number;
  completed?: number;
}

interface Report {
  modes: Record<string, {
    koa: Measured;
    argon2: { verifies: number; rate: number };
    scenarios: Array<{ id: string; enot: Measured; bare?: Measured; halfRate?: { requests: number; errors: number }; ratios: { koa: number } }>;
    startup: { firstMs: number; laterMedianMs: number };
    memory: { idleMb: number; underLoadMb: number };
    targets: unknown[];
  }>;
}

test('npm run bench -- --quick runs every scenario and writes the figures as JSON', async (t) => {
  t.timeout(240_000);
  // Embedded only: run() passes no DATABASE_URL / REDIS_URL to the child.
  const finished = await run(['bench/run.ts', '--quick'], {}, 230_000);
  t.is(finished.code, 0, finished.stderr.slice(-3000) + finished.stdout.slice(-2000));
  const file = /^results: (.+\.json)$/m.exec(finished.stdout)?.[1];
  t.truthy(file, finished.stdout);
  const absolute = path.join(ROOT, file!);
  t.teardown(() => rmSync(absolute, { force: true }));
  t.regex(finished.stdout, /client credentials/);

  const report = JSON.parse(readFileSync(absolute, 'utf8')) as Report;
  t.deepEqual(Object.keys(report.modes), ['embedded']);
  const embedded = report.modes.embedded!;
  t.true(embedded.koa.requests > 0);
  t.is(embedded.koa.errors, 0);
  t.true(embedded.argon2.verifies > 0);
  t.deepEqual(embedded.scenarios.map((s) => s.id), SCENARIOS);
  for (const s of embedded.scenarios) {
    t.true(s.enot.requests > 0, `${s.id}: requests`);
    t.is(s.enot.errors, 0, `${s.id}: errors`);
    if (s.enot.completed !== undefined) t.true(s.enot.completed > 0, `${s.id}: completed journeys`);
    t.true(s.ratios.koa > 0, `${s.id}: ratio to koa`);
    if (s.bare) {
      t.true(s.bare.requests > 0, `${s.id}: bare requests`);
      t.is(s.bare.errors, 0, `${s.id}: bare errors`);
    }
    if (s.halfRate) {
      t.true(s.halfRate.requests > 0, `${s.id}: requests at half rate`);
      t.is(s.halfRate.errors, 0, `${s.id}: errors at half rate`);
    }
  }
  t.true(embedded.startup.firstMs > 0);
  t.true(embedded.startup.laterMedianMs > 0);
  t.true(embedded.memory.idleMb > 0);
  t.true(embedded.memory.underLoadMb > 0);
  t.true(embedded.targets.length > 0);
});
