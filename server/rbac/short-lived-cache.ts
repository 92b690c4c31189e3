// A value remembered in the process for a few seconds, as clients are
// (adapters/client-cache.ts): resources and machine clients' permissions are
// read on every token, and change rarely. A change made through another process
// is seen within the TTL.

/** How stale another process's view of a resource or a client's roles may get. */
export const RBAC_CACHE_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

export function shortLived<T>(load: (key: string) => Promise<T>, ttlMs = RBAC_CACHE_TTL_MS, now = Date.now) {
  const entries = new Map<string, { value: Promise<T>; expiresAt: number }>();
  return {
    get(key: string): Promise<T> {
      const cached = entries.get(key);
      if (cached && cached.expiresAt > now()) return cached.value;
      // Concurrent misses share one query; a failure is not remembered.
      const entry = { value: load(key), expiresAt: now() + ttlMs };
      entries.delete(key);
      entries.set(key, entry);
      if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entry.value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return entry.value;
    },
    /** Forgets everything (after a change made through this process). */
    clear(): void {
      entries.clear();
    },
  };
}
