// /api/admin/keys: the token signing keys (server/keys/signing-keys.ts), as
// `enot-id keys rotate` manages them. Private parts never leave the database.
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Config } from '../../config/index.ts';
import type { Sealer } from '../../keys/sealed-secrets.ts';
import { listSigningKeys, retiredKeyKeepSeconds, rotateSigningKeys } from '../../keys/signing-keys.ts';
import { ID_TOKEN_TTL } from '../../oidc/provider.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { timestamp } from '../schemas.ts';

const keySchema = z.object({
  kid: z.string(),
  alg: z.string(),
  created_at: timestamp,
  retired_at: timestamp.nullable().describe('set: no longer signs, still verifies'),
  expires_at: timestamp.nullable().describe('when a retired key leaves JWKS'),
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function keyRoutes(deps: { db: Knex; sealer: Sealer; config: Config; refreshSigningKeys(): Promise<boolean> }): AnyRoute[] {
  const { db, sealer, config } = deps;
  return [
    defineRoute({
      method: 'get', path: '/keys', operationId: 'keys.list', summary: 'Signing keys still published (active first)', tag: 'keys',
      response: z.object({ items: z.array(keySchema) }), status: 200,
      async handler() {
        const rows = await listSigningKeys(db);
        return { items: rows.map((k) => ({ kid: k.kid, alg: k.alg, created_at: iso(k.created_at)!, retired_at: iso(k.retired_at), expires_at: iso(k.expires_at) })) };
      },
    }),
    defineRoute({
      method: 'post', path: '/keys/rotate', operationId: 'keys.rotate',
      summary: 'Retire the signing keys and create new ones; every process switches within a minute, retired keys verify until what they signed expires',
      tag: 'keys',
      response: z.object({ retired: z.array(z.string()), created: z.array(z.string()), retired_kept_seconds: z.number().int() }), status: 200,
      async handler() {
        const keep = retiredKeyKeepSeconds(config.accessTokenTtl, ID_TOKEN_TTL);
        const rotated = await rotateSigningKeys(db, sealer, keep);
        await deps.refreshSigningKeys();
        return { retired: rotated.retired.sort(), created: rotated.created.sort(), retired_kept_seconds: keep };
      },
    }),
  ];
}
