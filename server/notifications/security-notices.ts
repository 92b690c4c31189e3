// Security notices (issue 13 §2; OWASP ASVS V2.2.3): the person is told, in their
// language, by email or SMS, when something security-relevant happens to their
// account. Each notice is a job on the durable queue (server/jobs/), so:
//   - the action that caused it never waits for, or fails with, the mail or SMS;
//   - a delivery that fails is retried with backoff (5 s, 10 s, … up to an hour)
//     until it goes through, across restarts;
//   - it is queued once: the job id is derived from the event (what, which account,
//     to whom, when), and a second insert of the same id does nothing.
// Sent once: the job completes right after the transport accepted the message; only a
// process killed between those two moments sends it again (at-least-once in that window).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Job } from 'pg-boss';
import { maskIdentifier, type Identifier } from '../accounts/identifiers.ts';
import type { AccountRow } from '../accounts/queries.ts';
import { LOCALES, type Locale } from '../i18n/locale.ts';
import type { Logger } from '../logging/logger.ts';
import type { Delivery } from '../delivery/types.ts';
import type { JobQueue, QueueDefinition } from '../jobs/queue.ts';
import { describeUserAgent } from '../qr/user-agent.ts';
import { branded } from '../../views/messages/branded.ts';
import { securityNoticeMessage, type NoticeEvent, type NoticeInput } from '../../views/messages/security-notice.ts';

export type { NoticeEvent } from '../../views/messages/security-notice.ts';

export const SECURITY_NOTICES: QueueDefinition = {
  name: 'security-notice',
  options: {
    // About a day of tries: 5 s doubling, at most an hour apart.
    retryLimit: 30,
    retryDelay: 5,
    retryBackoff: true,
    retryDelayMax: 3600,
    // One message: far less than this, even with the transport's 10 s timeouts.
    expireInSeconds: 60,
    // The job holds an address: kept one day after it is done, for deduplication.
    deleteAfterSeconds: 24 * 3600,
  },
};

export interface NoticeDeps {
  db: Knex;
  jobs: JobQueue;
  logger: Logger;
}

/** Where the action came from: a person's request (ip, user agent, its language), or an administrator (none). */
export interface NoticeOrigin {
  ip?: string | null;
  userAgent?: string | null;
  /** The request's language: used until the account has a stored one. */
  locale?: Locale;
  at?: Date;
}

/** The account's stored language (issue 13 §1, a column added by the self-service work), if any. */
async function storedLocale(db: Knex, accountId: string): Promise<Locale | undefined> {
  const row = (await db('accounts').first('*').where({ id: accountId })) as Record<string, unknown> | undefined;
  const value = row?.locale;
  return LOCALES.find((l) => l === value);
}

/** The person's confirmed email, else their confirmed phone: one notice, where they read it. */
export function confirmedContact(account: AccountRow): Identifier[] {
  if (account.email && account.email_verified_at) return [{ kind: 'email', value: account.email }];
  if (account.phone && account.phone_verified_at) return [{ kind: 'phone', value: account.phone }];
  return [];
}

/** "Chrome, Windows": enough to recognise one's own browser; nothing that identifies it. */
export function approximateDevice(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  const { browser, system } = describeUserAgent(userAgent);
  return `${browser}, ${system}`;
}

/** A stable job id: the same event for the same recipient is one job. */
function jobId(parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Queues the notice of `event` for `account`: to `recipients` (default: its confirmed
 * email, else its confirmed phone). Never throws: the action has happened, and a
 * notice that could not even be queued is logged (without the address).
 */
export async function queueSecurityNotice(
  deps: NoticeDeps,
  input: { account: AccountRow; event: NoticeEvent; origin: NoticeOrigin; recipients?: Identifier[]; subject?: Identifier },
): Promise<void> {
  const { account, event, origin } = input;
  try {
    const at = origin.at ?? new Date();
    // The row as the caller had it, when it is gone now: a deleted account is told in its own language too.
    const locale = (await storedLocale(deps.db, account.id)) ?? account.locale ?? origin.locale ?? 'en';
    const device = approximateDevice(origin.userAgent);
    for (const to of input.recipients ?? confirmedContact(account)) {
      const data: NoticeInput = {
        event, channel: to.kind === 'email' ? 'email' : 'sms', to: to.value, locale, at: at.toISOString(), ip: origin.ip ?? null, device,
        ...(input.subject ? { kind: input.subject.kind, masked: maskIdentifier(input.subject) } : {}),
      };
      await deps.jobs.send(SECURITY_NOTICES, data, { id: jobId([event, account.id, to.value, data.at]) });
    }
  } catch (err) {
    deps.logger.warn({ err, event }, 'security notice not queued');
  }
}

/** Sends queued notices in this process; a failed delivery throws, so the job is retried. */
/** `brandName`: BRAND_NAME, put in the message in place of the default name (views/messages/branded.ts). */
export async function startSecurityNoticeWorker(jobs: JobQueue, delivery: Delivery, logger: Logger, brandName: string): Promise<void> {
  await jobs.work<NoticeInput>(SECURITY_NOTICES, { pollingIntervalSeconds: 1, localConcurrency: 2 }, async (job: Job<NoticeInput>) => {
    try {
      await delivery.send(branded(securityNoticeMessage(job.data), brandName));
    } catch (err) {
      // The transport logged why, without the address; this says what waits for a retry.
      logger.warn({ event: job.data.event, channel: job.data.channel, attempt: job.retryCount + 1 }, 'security notice not delivered; will retry');
      throw err;
    }
  });
}
