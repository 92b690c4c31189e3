// oidc-provider's sessions, grants, codes and tokens, remembered in the process
// when this process owns its database: the embedded mode, where one Enot ID process
// holds DATA_DIR (server/db/embedded-lock.ts; the CLI goes through its admin API) and
// every write to `oidc_models` goes through ./sql.ts. What this process wrote or read
// is then what the database holds, so a repeated read (the grant behind every token at
// introspection, userinfo and refresh; the session behind every page) is answered from
// memory. Writes still go to the database first and reach the cache only once they
// have succeeded: nothing answered 200 lives only here (a kill -9 loses nothing).
//
// Never with DATABASE_URL: other processes write there, and no cache in this process
// would see it (scale-out: nothing a second process needs lives only in one process).
//
// A read that was in flight while a write to the cache happened does not fill it: it
// may carry the row as it was before that write (a token destroyed by revocation must
// not come back from a read that started before). Each write moves `version` on; a
// read fills only if nothing moved it while it was out.
//
// Absence is remembered too, apart and with its own bound: the revocation marker that a
// valid JWT access token does not have (read at every introspection and userinfo), and
// the token kinds an opaque token is not. Only a write through this process can make
// such a row exist, and that write forgets the absence. Kept apart so that lookups of
// made-up values (which only miss) cannot push out what is there.
import type { AdapterPayload } from './types.ts';

/** Enough for the sessions, grants and live tokens of a busy single-process instance; beyond it the least recently used go. */
export const MODEL_CACHE_MAX_ENTRIES = 5_000;
/** Ids remembered as absent; a key and nothing else each. */
export const MODEL_CACHE_MAX_ABSENT = 5_000;

interface Entry {
  /** The payload as stored (JSON): every read gets its own copy, as from the database. */
  json: string;
  grantId: string | undefined;
  /** Epoch ms after which the row is no longer read (its expires_at), or null. */
  expiresAt: number | null;
  /** Epoch ms of consumption (consumed_at), or null. */
  consumedAt: number | null;
}

export interface CachedRow {
  payload: AdapterPayload;
  consumedAt: number | null;
}

export interface ModelCache {
  /** The live row; 'none' when known not to be there (expired, or absent); undefined when not remembered (ask the database). */
  read(model: string, id: string, now?: number): CachedRow | 'none' | undefined;
  /** Where the writes stand: pass to `fill` after reading the database. */
  version(): number;
  /** Remembers a row read from the database, unless a write happened since `version`. */
  fill(model: string, id: string, version: number, row: { json: string; grantId: string | undefined; expiresAt: number | null; consumedAt: number | null }): void;
  /** Remembers that the database has no live row, unless a write happened since `version`. */
  fillAbsent(model: string, id: string, version: number): void;
  /** After an insert or update of the whole row. */
  wrote(model: string, id: string, row: { json: string; grantId: string | undefined; expiresAt: number | null }): void;
  /** After `consumed_at` was set. */
  consumed(model: string, id: string, at: number): void;
  /** After the row was deleted. */
  deleted(model: string, id: string): void;
  /** After every row of the grant was deleted. */
  grantDeleted(model: string, grantId: string): void;
  /** After rows were deleted by a condition the cache cannot evaluate (an account's, a client's). */
  clear(): void;
  readonly size: number;
}

export function createModelCache(maxEntries = MODEL_CACHE_MAX_ENTRIES, maxAbsent = MODEL_CACHE_MAX_ABSENT): ModelCache {
  const entries = new Map<string, Entry>();
  const absent = new Set<string>();
  let writes = 0;
  const key = (model: string, id: string) => `${model}\u0000${id}`;
  const put = (k: string, entry: Entry) => {
    absent.delete(k);
    entries.delete(k);
    entries.set(k, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };

  return {
    read(model, id, now = Date.now()) {
      const k = key(model, id);
      const entry = entries.get(k);
      if (!entry) return absent.has(k) ? 'none' : undefined;
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        entries.delete(k);
        return 'none';
      }
      // Most recently used last (Map keeps insertion order).
      entries.delete(k);
      entries.set(k, entry);
      return { payload: JSON.parse(entry.json) as AdapterPayload, consumedAt: entry.consumedAt };
    },
    version: () => writes,
    fill(model, id, version, row) {
      if (version !== writes) return;
      put(key(model, id), { ...row });
    },
    fillAbsent(model, id, version) {
      if (version !== writes) return;
      const k = key(model, id);
      if (entries.has(k)) return;
      absent.add(k);
      if (absent.size > maxAbsent) absent.delete(absent.values().next().value!);
    },
    wrote(model, id, row) {
      writes++;
      put(key(model, id), { ...row, consumedAt: null });
    },
    consumed(model, id, at) {
      writes++;
      const entry = entries.get(key(model, id));
      if (entry) entry.consumedAt = at;
    },
    deleted(model, id) {
      writes++;
      entries.delete(key(model, id));
    },
    grantDeleted(model, grantId) {
      writes++;
      const prefix = `${model}\u0000`;
      for (const [k, entry] of entries) if (entry.grantId === grantId && k.startsWith(prefix)) entries.delete(k);
    },
    clear() {
      writes++;
      entries.clear();
      absent.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
