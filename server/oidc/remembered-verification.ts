// An API introspects the same access token on every call it receives during
// the token's lifetime; its signature needs checking once. This remembers the
// claims of verified tokens (by their exact text) until they expire. Revocation,
// grant and account checks are not remembered: they run every time.

/** Verified tokens remembered per process (about 1 KiB each); the oldest go first. */
export const REMEMBERED_TOKENS = 2000;

export function rememberVerified<T extends { exp?: number }>(
  verify: (token: string) => Promise<T | undefined>,
  options: { max?: number; nowSeconds?: () => number } = {},
): (token: string) => Promise<T | undefined> {
  const max = options.max ?? REMEMBERED_TOKENS;
  const nowSeconds = options.nowSeconds ?? (() => Date.now() / 1000);
  const remembered = new Map<string, Readonly<T>>();

  return async (token) => {
    const known = remembered.get(token);
    if (known) {
      if (known.exp !== undefined && known.exp > nowSeconds()) return known;
      remembered.delete(token);
    }
    const claims = await verify(token);
    // Only tokens that expire are remembered, and never past their expiry.
    if (!claims || claims.exp === undefined || claims.exp <= nowSeconds()) return claims;
    const frozen = Object.freeze(claims);
    remembered.set(token, frozen);
    if (remembered.size > max) remembered.delete(remembered.keys().next().value!);
    return frozen;
  };
}
