// Argon2id (server/accounts/passwords.ts): hashes verify, wrong passwords and missing
// hashes do not, and no more computations run at once than the machine has CPUs
// (each holds 19 MiB while it runs; more at once than CPUs adds memory, not throughput).
// Serial: the tests share the process's limit.
import test from 'ava';
import os from 'node:os';
import { argon2AtOnce, hashPassword, verifyPassword } from '../server/accounts/passwords.ts';

test.serial('a hash verifies its password only; a missing hash verifies nothing', async (t) => {
  const stored = await hashPassword('correct horse battery staple');
  t.regex(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  t.true(await verifyPassword(stored, 'correct horse battery staple'));
  t.false(await verifyPassword(stored, 'correct horse battery stapler'));
  t.false(await verifyPassword(null, 'correct horse battery staple'));
});

test.serial('no more Argon2id computations at once than CPUs: the rest wait their turn, and all finish', async (t) => {
  const cpus = os.availableParallelism();
  const stored = await hashPassword('many at once 1');
  const checks = Array.from({ length: cpus + 3 }, (_, i) => verifyPassword(stored, i % 2 ? 'many at once 1' : 'wrong'));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(argon2AtOnce.concurrency, cpus);
  t.is(argon2AtOnce.activeCount, cpus);
  t.is(argon2AtOnce.pendingCount, 3);
  t.deepEqual(await Promise.all(checks), checks.map((_, i) => i % 2 === 1));
  t.is(argon2AtOnce.activeCount, 0);
});
