// At start: every secret in the database not sealed by the newest SECRETS_KEY
// is sealed (again) with it: values stored in the clear before SECRETS_KEY was
// set, and values sealed with an older key (rotation: put the new key first in
// SECRETS_KEY, keep the old one after it until one start has run). Each write is
// conditional on the row being unchanged, so processes starting together, or an
// operator editing a client meanwhile, lose nothing.
import type { Knex } from 'knex';
import type { Sealer } from './sealed-secrets.ts';

interface Sealed {
  table: 'signing_keys' | 'server_secrets' | 'clients';
  key: 'kid' | 'name' | 'id';
  column: 'jwk' | 'value' | 'payload';
  /** The sealed part of the column: the whole value, or the client's `client_secret`. */
  part?: 'client_secret';
  context(key: string): string;
}

const SEALED: Sealed[] = [
  { table: 'signing_keys', key: 'kid', column: 'jwk', context: (kid) => `signing_key:${kid}` },
  { table: 'server_secrets', key: 'name', column: 'value', context: (name) => `server_secret:${name}` },
  { table: 'clients', key: 'id', column: 'payload', part: 'client_secret', context: (id) => `client_secret:${id}` },
];

/** Returns how many values were sealed anew. */
export async function resealSecrets(db: Knex, sealer: Sealer): Promise<number> {
  if (!sealer.enabled) return 0;
  let count = 0;
  for (const place of SEALED) {
    // Only the rows that need it are read: not on every start the whole clients table.
    const sealed = place.part ? `${place.column}->'${place.part}'->>'sealed'` : `${place.column}->>'sealed'`;
    const rows = await db(place.table)
      .select(place.key, place.column)
      .whereRaw(`coalesce(${sealed}, '') not like ?`, [`${sealer.currentPrefix!.replace(/[\\%_]/g, '\\$&')}%`])
      .modify((q) => (place.part ? q.whereRaw(`${place.column} \\? ?`, [place.part]) : q));
    for (const row of rows) {
      const key = String(row[place.key]);
      const whole = row[place.column] as Record<string, unknown>;
      const stored = place.part ? whole[place.part] : whole;
      if (stored === undefined || !sealer.needsResealing(stored)) continue;
      const resealed = sealer.seal(sealer.open(stored, place.context(key)), place.context(key));
      const next = place.part ? { ...whole, [place.part]: resealed } : resealed;
      const updated = await db(place.table)
        .where(place.key, key)
        .whereRaw('?? = ?::jsonb', [place.column, JSON.stringify(whole)])
        .update({ [place.column]: JSON.stringify(next) });
      count += Number(updated) || 0;
    }
  }
  return count;
}
