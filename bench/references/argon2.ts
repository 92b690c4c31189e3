// Reference "physical limit" of password sign-in: Argon2id verifications per
// second with Enot ID's own functions and parameters (server/accounts/passwords.ts),
// in a process of its own with the same libuv thread pool as the server
// (UV_THREADPOOL_SIZE, 4 by default). Prints one JSON line.
import { parseArgs } from 'node:util';
import { hashPassword, verifyPassword } from '../../server/accounts/passwords.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, concurrency: { type: 'string' } } });
const threads = Number(process.env.UV_THREADPOOL_SIZE || 4);
// Twice the pool keeps every thread busy all the time.
const concurrency = Number(values.concurrency ?? threads * 2);
const seconds = Number(values.duration);

const password = 'a benchmark passphrase 2024';
const hash = await hashPassword(password);
await verifyPassword(hash, password);

const latencies: number[] = [];
const cpuBefore = process.cpuUsage();
const began = performance.now();
const deadline = began + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      if (!(await verifyPassword(hash, password))) throw new Error('verification failed');
      latencies.push(performance.now() - t);
    }
  }),
);
const elapsed = (performance.now() - began) / 1000;
// CPU time of the whole process (every thread) per verification, as bench/lib/cpu.ts counts the server's.
const cpu = process.cpuUsage(cpuBefore);
const cpuMsPerVerification = (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length);
latencies.sort((a, b) => a - b);
const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0);
process.stdout.write(
  `${JSON.stringify({ verifies: latencies.length, seconds: elapsed, rate: latencies.length / elapsed, threads, concurrency, p50: at(50), p99: at(99), cpuMsPerVerification })}\n`,
);
