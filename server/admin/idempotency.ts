// Idempotency-Key on the admin API's creates without a natural key (issue 11 §2:
// "writes are idempotent where a client may retry ... or conflicts give 409 with
// the existing resource's id"). An account, role or resource that exists is
// already a 409 with its id; a client or a mailing has nothing to collide on, so
// a retried create would make a second one. With the header
// (draft-ietf-httpapi-idempotency-key-header), the first request with a key
// creates; a repeat by the same caller answers 409 conflict with existing_id, the
// id of what the first one created. The first answer is not replayed: it may hold
// a secret shown once (a client's), which is never stored; the caller reads what
// exists, or rotates the secret. Keys are kept a day (purged with the audit log's
// periodic purge).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError, Conflict, InvalidRequest } from '../errors/index.ts';
import type { Actor } from './authorise.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How long a key is remembered: a retry comes within seconds or minutes, a day covers a client that gave up and came back. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;
// The draft's key is an sf-string; printable ASCII, at most 255 characters, is what this API takes.
const KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * Reserves `key` for this caller and operation, or throws: 409 with the id the
 * first request created (or while it is still being handled), 422 when the key
 * came with another body. Returns what to call once the request has ended.
 */
export async function reserveIdempotencyKey(
  db: Knex,
  input: { actor: Actor; operation: string; key: string; body: unknown },
): Promise<{ done(targetId: string | undefined): Promise<void>; failed(): Promise<void> }> {
  if (!KEY.test(input.key)) throw new InvalidRequest(`header ${IDEMPOTENCY_HEADER}: 1 to 255 printable ASCII characters`);
  const row = { actor_kind: input.actor.kind, actor_id: input.actor.id, operation: input.operation, key: input.key };
  const fingerprint = createHash('sha256').update(JSON.stringify(input.body ?? null)).digest('base64url');
  const reserved = await db('admin_idempotency_keys').insert({ ...row, fingerprint }).onConflict(['actor_kind', 'actor_id', 'operation', 'key']).ignore().returning('key');
  if (!reserved.length) {
    const first = await db('admin_idempotency_keys').first('fingerprint', 'target_id').where(row);
    // Purged between the insert and this read: rare enough to ask for a retry.
    if (!first) throw new Conflict(`a request with this ${IDEMPOTENCY_HEADER} has just ended; retry`);
    if (first.fingerprint !== fingerprint) {
      throw new AppError(422, 'invalid_request', `this ${IDEMPOTENCY_HEADER} was used for a request with another body`);
    }
    if (!first.target_id) throw new Conflict(`a request with this ${IDEMPOTENCY_HEADER} is still being handled`);
    throw new Conflict(`a request with this ${IDEMPOTENCY_HEADER} created ${first.target_id}`, first.target_id);
  }
  return {
    async done(targetId) {
      // Nothing to name: forget the key, so a retry does the work again.
      if (!targetId) await db('admin_idempotency_keys').where(row).delete();
      else await db('admin_idempotency_keys').where(row).update({ target_id: targetId });
    },
    async failed() {
      // The request created nothing: a retry with the same key may try again.
      await db('admin_idempotency_keys').where(row).delete();
    },
  };
}

/** Forgets keys older than IDEMPOTENCY_KEY_TTL_HOURS; run by the periodic purge. */
export async function purgeIdempotencyKeys(db: Knex): Promise<void> {
  await db('admin_idempotency_keys').where('created_at', '<', db.raw(`now() - make_interval(hours => ?)`, [IDEMPOTENCY_KEY_TTL_HOURS])).delete();
}
