// Argon2id with the OWASP Password Storage Cheat Sheet's first recommended
// configuration: m=19 MiB (19456 KiB), t=2, p=1. @node-rs/argon2 hashes on
// libuv's thread pool, off the event loop.
import os from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';
import { traced } from '../tracing/spans.ts';

const OWASP_ARGON2ID = { memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;

/**
 * At most as many Argon2id computations at once as the machine has CPUs. Each is
 * CPU-bound and holds its 19 MiB while it runs: on a machine with fewer CPUs than
 * libuv's pool has threads (4), more at once adds no throughput, only memory (the
 * embedded mode's peak under sign-in load, docs/performance.md), and takes the pool's
 * last threads from file and DNS work. With more CPUs the pool's size is the limit, as before.
 */
export const argon2AtOnce = pLimit(Math.max(1, os.availableParallelism()));

export function hashPassword(password: string): Promise<string> {
  return argon2AtOnce(() => hash(password, OWASP_ARGON2ID));
}

function verifyHash(passwordHash: string, password: string): Promise<boolean> {
  return argon2AtOnce(() => verify(passwordHash, password));
}

// Verified against when the account does not exist or has no password, so the
// answer takes the same time either way (OWASP ASVS V2.2: no enumeration by timing).
let dummyHash: Promise<string> | undefined;

/** True when `password` matches `passwordHash`; a missing hash costs the same time and is false. */
export function verifyPassword(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  return traced('password.verify', () => verifyAgainst(passwordHash, password));
}

async function verifyAgainst(passwordHash: string | null | undefined, password: string): Promise<boolean> {
  if (!passwordHash) {
    dummyHash ??= hashPassword('enot-id-timing-equaliser');
    await verifyHash(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verifyHash(passwordHash, password);
  } catch {
    return false;
  }
}
