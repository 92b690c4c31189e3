// Signs and checks cookies for koa and oidc-provider, in place of keygrip.
// keygrip compares with tsscmp, which computes two more HMACs per comparison,
// and hands its string keys to createHmac, which converts them on every call:
// together about 5% of the main thread in a password sign-in (docs/performance.md).
// Here the keys become KeyObjects once and signatures are compared with
// timingSafeEqual. HMAC-SHA-256, where keygrip defaults to SHA-1.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** The interface koa's `app.keys` and the `cookies` package accept (keygrip's). */
export interface CookieSigner {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  /** Which key signed it (0 is the current one), or -1. */
  index(data: string, digest: string): number;
}

/** Keys newest first: cookies are signed with the first, and accepted when any one signed them. */
export function cookieSigner(keys: readonly string[]): CookieSigner {
  if (!keys.length) throw new Error('cookie signing needs at least one key');
  const secrets: KeyObject[] = keys.map((key) => createSecretKey(Buffer.from(key, 'utf8')));
  const digestWith = (key: KeyObject, data: string) => createHmac('sha256', key).update(data).digest('base64url');

  function index(data: string, digest: string): number {
    if (typeof digest !== 'string') return -1;
    // Compared as text: only the exact encoding we produce is accepted.
    const given = Buffer.from(digest);
    for (let i = 0; i < secrets.length; i++) {
      const expected = Buffer.from(digestWith(secrets[i]!, data));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return i;
    }
    return -1;
  }

  return {
    sign: (data) => digestWith(secrets[0]!, data),
    verify: (data, digest) => index(data, digest) > -1,
    index,
  };
}
