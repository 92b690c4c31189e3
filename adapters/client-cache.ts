// Registered clients, remembered for a few seconds in the process. oidc-provider
// looks its client up on every authenticated request and caches only static
// clients, so without this every token, introspection and sign-in step costs a
// database round trip for a row that almost never changes.
import type { Adapter, AdapterPayload } from './types.ts';

/**
 * How stale another process's view of a client may get: a client deleted or
 * changed (new secret, redirect URIs) elsewhere is seen everywhere within this
 * time. Changes made through this process are seen at once.
 */
export const CLIENT_CACHE_TTL_MS = 5_000;

/** Enough for every client of a large deployment; beyond it the oldest entries go. */
const MAX_ENTRIES = 10_000;

/** Frozen all the way down: every caller shares the one object, so none may change it. */
function deepFrozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFrozen(inner);
    Object.freeze(value);
  }
  return value;
}

interface Entry {
  found: Promise<AdapterPayload | undefined>;
  expiresAt: number;
}

export function cachedClients(clients: Adapter, ttlMs = CLIENT_CACHE_TTL_MS, now = Date.now): Adapter {
  const entries = new Map<string, Entry>();
  const forget = (id: string) => entries.delete(id);

  return {
    ...clients,
    async find(id) {
      const cached = entries.get(id);
      if (cached && cached.expiresAt > now()) return cached.found;
      // Concurrent misses share one query; unknown ids and failures are not kept,
      // so a new client works at once and a storage outage is not remembered.
      const found = Promise.resolve(clients.find(id)).then((payload) => deepFrozen(payload ?? undefined));
      const entry = { found, expiresAt: now() + ttlMs };
      const drop = () => {
        if (entries.get(id) === entry) forget(id);
      };
      entries.delete(id);
      entries.set(id, entry);
      if (entries.size > MAX_ENTRIES) forget(entries.keys().next().value!);
      try {
        const payload = await found;
        if (!payload) drop();
        return payload;
      } catch (err) {
        drop();
        throw err;
      }
    },
    async upsert(id, payload, expiresIn) {
      forget(id);
      await clients.upsert(id, payload, expiresIn);
      forget(id);
    },
    async destroy(id) {
      forget(id);
      await clients.destroy(id);
      forget(id);
    },
  };
}
