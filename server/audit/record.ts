// The audit log (issue 11 §3): one append-only table (migration 016) that admin
// calls (admin/guard.ts) and the security events of the sign-in flows
// (./security-event.ts) write to. ASVS 7.1.1/7.1.2: no secrets, codes, passwords or
// tokens in a record; ASVS 7.2: who, what, on whom, when, from where, outcome.
import type { Knex } from 'knex';
import { deletedCount } from '../db/deleted-count.ts';

export const ACTOR_KINDS = ['account', 'client', 'operator', 'anonymous', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];
export type Outcome = 'success' | 'refused' | 'failure';

export interface AuditEntry {
  actor: { kind: ActorKind; id?: string | null };
  action: string;
  target?: { kind: string; id?: string | null } | null;
  ip?: string | null;
  userAgent?: string | null;
  outcome: Outcome;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  at: Date;
  actor_kind: ActorKind;
  actor_id: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: Outcome;
  details: Record<string, unknown>;
}

// Keys whose values are never written, whatever a caller passes (ASVS 7.1.1).
const SECRET_KEY = /secret|password|passwd|token|code|hash|key|cookie|authorization|otp/i;
const MAX_TEXT = 512;

/**
 * At most MAX_TEXT characters of what a caller sent (a path segment, a user
 * agent), with NUL replaced: PostgreSQL text and jsonb cannot hold U+0000, and
 * a refused request must still leave its record.
 */
function clip(value: string): string;
function clip(value: string | null | undefined): string | null;
function clip(value: string | null | undefined): string | null {
  if (!value) return null;
  const text = value.replaceAll('\u0000', '\uFFFD');
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/** A copy of `value` without members that could hold a secret, texts cut to MAX_TEXT. */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 5) return '[nested]';
  if (typeof value === 'string') return clip(value);
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => withoutSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !SECRET_KEY.test(key))
        .map(([key, v]) => [key, withoutSecrets(v, depth + 1)]),
    );
  }
  return value;
}


export async function recordAudit(db: Knex, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor_kind: entry.actor.kind,
    actor_id: clip(entry.actor.id),
    action: entry.action,
    target_kind: clip(entry.target?.kind),
    target_id: clip(entry.target?.id),
    ip: clip(entry.ip),
    user_agent: clip(entry.userAgent),
    outcome: entry.outcome,
    details: JSON.stringify(withoutSecrets(entry.details ?? {})),
  });
}

export interface AuditFilter {
  actorKind?: ActorKind;
  actorId?: string;
  targetKind?: string;
  targetId?: string;
  action?: string;
  outcome?: Outcome;
  from?: Date;
  to?: Date;
  /** Records older than this id (newest first paging). */
  before?: string;
  limit: number;
}

/** Newest first; `before` is the id of the last record of the previous page. */
export async function queryAudit(db: Knex, filter: AuditFilter): Promise<AuditRecord[]> {
  const query = db('audit_log').select('*').orderBy('id', 'desc').limit(filter.limit);
  if (filter.actorKind) query.where('actor_kind', filter.actorKind);
  if (filter.actorId) query.where('actor_id', filter.actorId);
  if (filter.targetKind) query.where('target_kind', filter.targetKind);
  if (filter.targetId) query.where('target_id', filter.targetId);
  if (filter.action) query.where('action', filter.action);
  if (filter.outcome) query.where('outcome', filter.outcome);
  if (filter.from) query.where('at', '>=', filter.from);
  if (filter.to) query.where('at', '<', filter.to);
  if (filter.before) query.where('id', '<', filter.before);
  const rows = (await query) as AuditRecord[];
  return rows.map((row) => ({ ...row, id: String(row.id) }));
}

/** Deletes records older than the retention (AUDIT_RETENTION_DAYS); run by the periodic purge. */
export async function purgeAuditLog(db: Knex, retentionDays: number): Promise<number> {
  return deletedCount(await db('audit_log').where('at', '<', db.raw(`now() - make_interval(days => ?)`, [retentionDays])).delete());
}
