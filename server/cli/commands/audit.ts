// `enot-id audit tail`: the newest audit records (server/audit/), oldest of them
// first as a log reads, through the admin API (server/admin/audit/routes.ts).
import { parseArgs } from 'node:util';
import { ACTOR_KINDS } from '../../audit/record.ts';
import { parsing, UsageError, wholeNumber, type Command } from '../args.ts';
import { columns } from '../output.ts';

type AuditRecord = Record<string, unknown> & { at: string; actor_kind: string; actor_id: string | null; action: string; target_kind: string | null; target_id: string | null; outcome: string; ip: string | null };

export const auditTail: Command = {
  name: 'audit tail',
  synopsis: '[-n N] [--actor-kind K] [--actor ID] [--target ID] [--action A] [--outcome O] [--since TIME]',
  summary: `the newest N (default 20) audit records, oldest first; filters as the admin API's (actor kinds: ${ACTOR_KINDS.join(', ')}; TIME as RFC 3339)`,
  admin: true,
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({
        args,
        options: {
          n: { type: 'string', short: 'n' }, 'actor-kind': { type: 'string' }, actor: { type: 'string' }, target: { type: 'string' },
          action: { type: 'string' }, outcome: { type: 'string' }, since: { type: 'string' },
        },
      }),
    );
    const limit = values.n === undefined ? 20 : wholeNumber(values.n, 'n', 1, 200);
    if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) throw new UsageError(`--since must be a time such as 2026-11-30T10:00:00Z, got "${values.since}"`);
    const query = {
      limit: String(limit), actor_kind: values['actor-kind'], actor_id: values.actor, target_id: values.target, action: values.action, outcome: values.outcome,
      from: values.since === undefined ? undefined : new Date(values.since).toISOString(),
    };
    return async ({ admin }) => {
      const { items } = (await (await admin())({ method: 'get', path: '/audit', query })) as { items: AuditRecord[] };
      const records = items.reverse();
      const rows = records.map((r) => [r.at, r.outcome, r.action, `${r.actor_kind}${r.actor_id ? `:${r.actor_id}` : ''}`, r.target_kind ? `${r.target_kind}${r.target_id ? `:${r.target_id}` : ''}` : '-', r.ip ?? '-']);
      return { json: { records }, text: records.length ? columns(rows) : 'no audit records' };
    };
  },
};
