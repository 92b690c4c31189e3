// Argon2id with the OWASP Password Storage Cheat Sheet's first recommended
// configuration: m=19 MiB (19456 KiB), t=2, p=1. @node-rs/argon2 hashes on
// libuv's thread pool, off the event loop.
import { hash, verify } from '@node-rs/argon2';
import { traced } from '../tracing/spans.ts';

const OWASP_ARGON2ID = { memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OWASP_ARGON2ID);
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
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
