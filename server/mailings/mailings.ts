// Mailings (issue 13 §3): create, start (the audience becomes recipient rows and
// one queued job each), pause, resume, cancel, progress. Sending: ./send.ts.
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { JobQueue, QueueDefinition } from '../jobs/queue.ts';
import type { Templates } from './templates.ts';
import { LOCALES } from '../i18n/locale.ts';

export const audienceSchema = z.union([
  z.object({ account_ids: z.array(z.uuid()).min(1).max(1_000).describe('one account, or a list of up to 1,000 (larger audiences: a filter)') }).strict(),
  z.object({
    role: z.string().min(1).max(64).optional(),
    created_from: z.iso.datetime({ offset: true }).optional(),
    created_to: z.iso.datetime({ offset: true }).optional(),
    language: z.enum(LOCALES).optional().describe('the account\'s stored language; an account without one counts as English'),
  }).strict().describe('every account matching all given conditions (confirmed email is always required)'),
]);
export type Audience = z.infer<typeof audienceSchema>;

export type MailingStatus = 'draft' | 'running' | 'paused' | 'cancelled';

/** Retries of one recipient's send after a transient failure (4xx, connection), with backoff. */
export const MAILING_RETRY_LIMIT = 5;

export const MAILING_SEND: QueueDefinition = {
  name: 'mailing-send',
  options: {
    retryLimit: MAILING_RETRY_LIMIT,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 600,
    // A live process refreshes the heartbeat of the jobs it holds (every 5 s); a process
    // that died (or stalled 10 s) loses them to the next poll of any process. So a job
    // runs again only when its holder is gone, however long its batch waits for the
    // shared pace (./send.ts), which the expiry, a last resort, must outlast.
    heartbeatSeconds: 10,
    expireInSeconds: 30 * 60,
    deleteAfterSeconds: 7 * 24 * 3600,
    // A job waiting its turn is kept as long as its mailing may run (pg-boss's default
    // deletes it after 14 days: a large mailing at a low MAILING_RATE runs longer).
    retentionSeconds: 365 * 24 * 3600,
  },
};

export interface MailingJob {
  mailingId: string;
  accountId: string;
}

/** One job per mailing and recipient, whoever queues it and however often. */
export function recipientJobId(mailingId: string, accountId: string): string {
  const hex = createHash('sha256').update(`mailing\u0000${mailingId}\u0000${accountId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export async function createMailing(db: Knex, input: { name: string; templates: Templates; audience: Audience }): Promise<string> {
  const id = randomUUID();
  await db('mailings').insert({ id, name: input.name, templates: JSON.stringify(input.templates), audience: JSON.stringify(input.audience) });
  return id;
}

export async function findMailing(db: Knex, id: string) {
  return db('mailings').first('*').where({ id }) as Promise<{ id: string; name: string; templates: Templates; audience: Audience; status: MailingStatus; created_at: Date; started_at: Date | null } | undefined>;
}

/**
 * The account's stored language (issue 13 §1: column `locale`, added by the
 * self-service work's migration 020); until that column exists every account is
 * English. Asked each time: the column appears with a migration, not a restart.
 */
async function accountLocale(db: Knex): Promise<string> {
  return (await db.schema.hasColumn('accounts', 'locale'))
    ? `case when a.locale in (${LOCALES.map((l) => `'${l}'`).join(', ')}) then a.locale else 'en' end`
    : `'en'`;
}

/** Not async: a knex builder is a thenable, and returning it from an async function would run it. */
function audienceQuery(db: Knex, audience: Audience, locale: string) {
  const query = db('accounts as a').select('a.id', 'a.email', 'a.email_verified_at', db.raw(`${locale} as locale`));
  if ('account_ids' in audience) return query.whereIn('a.id', audience.account_ids);
  if (audience.role) query.whereExists(db('account_roles as r').select(db.raw('1')).whereRaw('r.account_id = a.id').andWhere('r.role_name', audience.role));
  if (audience.created_from) query.where('a.created_at', '>=', audience.created_from);
  if (audience.created_to) query.where('a.created_at', '<', audience.created_to);
  if (audience.language) query.whereRaw(`${locale} = ?`, [audience.language]);
  return query;
}

/**
 * Fixes the recipients (one row per account of the audience: queued, or skipped with
 * the reason) and queues one job per queued row. Safe to repeat: rows and jobs that
 * exist are kept (primary key; job id from recipientJobId).
 */
export async function startMailing(db: Knex, jobs: JobQueue, id: string): Promise<void> {
  const mailing = await findMailing(db, id);
  if (!mailing) return;
  const audience = audienceQuery(db, mailing.audience, await accountLocale(db));
  await db.transaction(async (trx) => {
    await trx.raw(
      `insert into mailing_recipients (mailing_id, account_id, email, locale, state, reason)
       select ?, x.id, x.email, x.locale,
         case when x.email is null or x.email_verified_at is null or u.account_id is not null or b.address is not null then 'skipped' else 'queued' end,
         case when x.email is null or x.email_verified_at is null then 'no_confirmed_email'
              when u.account_id is not null then 'unsubscribed'
              when b.address is not null then 'bounced' end
       from (${audience.toQuery()}) x
       left join mailing_unsubscribes u on u.account_id = x.id
       left join mail_bounces b on b.address = lower(x.email)
       on conflict do nothing`,
      [id],
    );
    await trx('mailings').where({ id }).update({ status: 'running', started_at: trx.fn.now() });
  });
  await queueRecipients(db, jobs, id);
}

async function queuedIds(db: Knex, mailingId: string): Promise<string[]> {
  const rows = await db('mailing_recipients').select('account_id').where({ mailing_id: mailingId }).whereIn('state', ['queued', 'sending']);
  return rows.map((r: { account_id: string }) => r.account_id);
}

async function queueRecipients(db: Knex, jobs: JobQueue, mailingId: string): Promise<void> {
  const ids = await queuedIds(db, mailingId);
  for (let i = 0; i < ids.length; i += 500) {
    await jobs.insert(MAILING_SEND, ids.slice(i, i + 500).map((accountId) => ({
      id: recipientJobId(mailingId, accountId), data: { mailingId, accountId } satisfies MailingJob, ...MAILING_SEND.options,
    })));
  }
}

/** Pause: the jobs of recipients not yet sent are cancelled (a send in hand finishes). */
export async function pauseMailing(db: Knex, jobs: JobQueue, id: string): Promise<void> {
  await db('mailings').where({ id, status: 'running' }).update({ status: 'paused' });
  await jobs.cancel(MAILING_SEND, (await queuedIds(db, id)).map((a) => recipientJobId(id, a)));
}

/**
 * Resume: every recipient not yet sent has a job that runs again; a recipient already sent
 * is not sent again (./send.ts). The cancelled (paused) jobs are resumed; a job whose
 * retries ran out on something other than the SMTP server's answer (the database
 * unreachable for minutes: the row is still `queued` or `sending`) gets another try; and
 * a job pg-boss deleted (a pause longer than MAILING_SEND's deleteAfterSeconds) is queued
 * again (the ids that still exist are skipped). So pause and resume also un-stick a mailing.
 */
export async function resumeMailing(db: Knex, jobs: JobQueue, id: string): Promise<void> {
  await db('mailings').where({ id, status: 'paused' }).update({ status: 'running' });
  const ids = (await queuedIds(db, id)).map((a) => recipientJobId(id, a));
  for (let i = 0; i < ids.length; i += 500) {
    await jobs.resume(MAILING_SEND, ids.slice(i, i + 500));
    await jobs.retry(MAILING_SEND, ids.slice(i, i + 500));
  }
  await queueRecipients(db, jobs, id);
}

/** Cancel: nobody else gets it; the recipients not yet sent are skipped as cancelled. */
export async function cancelMailing(db: Knex, jobs: JobQueue, id: string): Promise<void> {
  await db('mailings').where({ id }).whereIn('status', ['draft', 'running', 'paused']).update({ status: 'cancelled' });
  await jobs.cancel(MAILING_SEND, (await queuedIds(db, id)).map((a) => recipientJobId(id, a)));
  await db('mailing_recipients').where({ mailing_id: id, state: 'queued' }).update({ state: 'skipped', reason: 'cancelled', updated_at: db.fn.now() });
}

export type RecipientState = 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';
export const RECIPIENT_STATES = ['queued', 'sending', 'sent', 'failed', 'skipped'] as const satisfies readonly RecipientState[];

/** One recipient's progress: its state, why it was skipped or failed, the sends tried; never its address. */
export interface RecipientProgress {
  account_id: string;
  state: RecipientState;
  reason: string | null;
  attempts: number;
  updated_at: Date;
}

/** The recipients in account id order after `after`, optionally of one state. */
export async function mailingRecipients(
  db: Knex,
  id: string,
  filter: { state?: RecipientState; after?: string; limit: number },
): Promise<RecipientProgress[]> {
  const query = db('mailing_recipients').select('account_id', 'state', 'reason', 'attempts', 'updated_at').where({ mailing_id: id }).orderBy('account_id').limit(filter.limit);
  if (filter.state) query.where('state', filter.state);
  if (filter.after) query.where('account_id', '>', filter.after);
  return (await query) as RecipientProgress[];
}

export async function mailingProgress(db: Knex, id: string) {
  const counts = { queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
  const rows = await db('mailing_recipients').select('state').count({ n: '*' }).where({ mailing_id: id }).groupBy('state');
  for (const row of rows as Array<{ state: keyof typeof counts; n: string | number }>) counts[row.state] = Number(row.n);
  return counts;
}
