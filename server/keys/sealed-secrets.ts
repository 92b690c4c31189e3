// Secrets at rest, sealed by envelope encryption (issue 10 A9; OWASP ASVS
// V6.4.1, "key material is not stored in the clear"; NIST SP 800-57 Part 1
// §6.2.2, key-wrapping keys). With SECRETS_KEY set, every secret the database
// holds (signing private keys, cookie keys, the code HMAC key, client secrets)
// is stored encrypted: each value under a fresh data key (AES-256-GCM), the data
// key wrapped by the key-encryption key from configuration (AES-256-GCM too).
// A dump or backup of the database then holds no usable secret.
//
// A sealed value is `{ "sealed": "v1.<kek id>.<iv>.<wrapped data key>.<iv>.<ciphertext>" }`,
// base64url parts, each GCM output with its tag. The caller's `context` (e.g.
// `signing_key:<kid>`) is authenticated data: a sealed value copied to another
// row does not open there.
//
// SECRETS_KEY may list several keys, newest first: the first seals, all open,
// and at start every value not sealed by the first is sealed again (rotation).
// Without SECRETS_KEY values are stored as before, in the clear.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const TAG_BYTES = 16;

interface Kek {
  id: string;
  key: Buffer;
}

export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

export interface Sealer {
  /** True when values are sealed (SECRETS_KEY set). */
  readonly enabled: boolean;
  /** How a value sealed by the newest key starts (`v1.<kek id>.`), or undefined when sealing is off. */
  readonly currentPrefix: string | undefined;
  /** The value to store: sealed when enabled, `value` itself otherwise. */
  seal(value: unknown, context: string): unknown;
  /** The value a stored one stands for: opened when sealed, as stored otherwise. */
  open(stored: unknown, context: string): unknown;
  /** True when `stored` should be written again: not sealed by the newest key (while sealing is on). */
  needsResealing(stored: unknown): boolean;
}

const b64 = (buffer: Buffer) => buffer.toString('base64url');

function encrypt(key: Buffer, plaintext: Buffer, aad: string): [Buffer, Buffer] {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad));
  return [iv, Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])];
}

function decrypt(key: Buffer, iv: Buffer, sealed: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv(ALGORITHM, key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}

function sealedString(stored: unknown): string | undefined {
  const value = (stored as { sealed?: unknown } | null | undefined)?.sealed;
  return stored !== null && typeof stored === 'object' && typeof value === 'string' && value.startsWith(`${VERSION}.`) ? value : undefined;
}

/** A sealer for the configured key-encryption keys (32 bytes each, newest first); none: values stay in the clear. */
export function createSealer(keys: Buffer[] | undefined): Sealer {
  const keks: Kek[] = (keys ?? []).map((key) => ({ id: b64(createHash('sha256').update(key).digest().subarray(0, 6)), key }));
  const newest = keks[0];

  return {
    enabled: newest !== undefined,
    currentPrefix: newest && `${VERSION}.${newest.id}.`,

    seal(value, context) {
      if (!newest) return value;
      const dataKey = randomBytes(32);
      const [wrapIv, wrapped] = encrypt(newest.key, dataKey, `${VERSION}.${newest.id}`);
      const [iv, ciphertext] = encrypt(dataKey, Buffer.from(JSON.stringify(value)), context);
      return { sealed: [VERSION, newest.id, b64(wrapIv), b64(wrapped), b64(iv), b64(ciphertext)].join('.') };
    },

    open(stored, context) {
      const sealed = sealedString(stored);
      if (!sealed) return stored;
      const [, kekId, wrapIv, wrapped, iv, ciphertext] = sealed.split('.');
      const kek = keks.find((k) => k.id === kekId);
      if (!kek) {
        throw new SealedSecretError(
          keks.length
            ? `a secret in the database (${context.split(':')[0]}) was sealed with a key that SECRETS_KEY no longer lists; add that key back (after the new one)`
            : `a secret in the database (${context.split(':')[0]}) is sealed; set SECRETS_KEY (or SECRETS_KEY_FILE) to the key that sealed it`,
        );
      }
      try {
        const dataKey = decrypt(kek.key, Buffer.from(wrapIv!, 'base64url'), Buffer.from(wrapped!, 'base64url'), `${VERSION}.${kek.id}`);
        return JSON.parse(decrypt(dataKey, Buffer.from(iv!, 'base64url'), Buffer.from(ciphertext!, 'base64url'), context).toString()) as unknown;
      } catch {
        throw new SealedSecretError(`a sealed secret in the database (${context.split(':')[0]}) does not open: altered, or moved from another row`);
      }
    },

    needsResealing(stored) {
      if (!newest) return false;
      return sealedString(stored)?.split('.')[1] !== newest.id;
    },
  };
}
