// /api/admin/audit: the audit log (server/audit/), newest first, filtered by
// actor, target, action, outcome and time (ASVS 7.2: records an operator can use).
import { z } from 'zod';
import type { Knex } from 'knex';
import { InvalidRequest } from '../../errors/index.ts';
import { ACTOR_KINDS, queryAudit } from '../../audit/record.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { page, paging, timestamp } from '../schemas.ts';

const recordSchema = z.object({
  id: z.string(),
  at: timestamp,
  actor_kind: z.enum(ACTOR_KINDS),
  actor_id: z.string().nullable(),
  action: z.string(),
  target_kind: z.string().nullable(),
  target_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  outcome: z.enum(['success', 'refused', 'failure']),
  details: z.record(z.string(), z.unknown()),
});

const text = z.string().min(1).max(512);

export function auditRoutes(db: Knex): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: '/audit', operationId: 'audit.query', summary: 'Audit records, newest first', tag: 'audit',
      query: z.object({
        actor_kind: z.enum(ACTOR_KINDS).optional(),
        actor_id: text.optional(),
        target_kind: text.optional(),
        target_id: text.optional(),
        action: text.optional(),
        outcome: z.enum(['success', 'refused', 'failure']).optional(),
        from: z.iso.datetime({ offset: true }).optional().describe('records at or after this time'),
        to: z.iso.datetime({ offset: true }).optional().describe('records before this time'),
        ...paging,
      }),
      response: page(recordSchema), status: 200,
      async handler({ query }) {
        if (query.cursor && !/^\d{1,19}$/.test(query.cursor)) throw new InvalidRequest('query.cursor: not a cursor this API gave');
        const rows = await queryAudit(db, {
          actorKind: query.actor_kind, actorId: query.actor_id, targetKind: query.target_kind, targetId: query.target_id,
          action: query.action, outcome: query.outcome,
          from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined,
          before: query.cursor, limit: query.limit + 1,
        });
        const items = rows.slice(0, query.limit).map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
        return { items, next_cursor: rows.length > query.limit ? items.at(-1)!.id : null };
      },
    }),
  ];
}
