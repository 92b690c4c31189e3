// Sends mailings: one queued job per recipient (./mailings.ts), paced to
// MAILING_RATE messages per minute for all processes together, over pooled SMTP connections.
//
// Exactly once, and why (docs/mailings.md):
//   - A recipient has one row (mailing_recipients, primary key mailing + account)
//     and one job (its id derived from both), so it is queued once however often
//     the mailing is started or resumed.
//   - pg-boss gives a job to one process at a time (FOR UPDATE SKIP LOCKED); before
//     sending, the handler moves the row from `queued` to `sending` in one UPDATE, and
//     after the SMTP server's 250 to `sent`. A job that runs again (its process died,
//     it expired, it was resumed) finds `sent` and sends nothing: not twice.
//   - A process killed before the 250 left the row `sending` and its job active; its
//     heartbeat stops, the job runs again elsewhere (after about 15-25 s), and the
//     message is sent: none lost.
//   - The one window no protocol closes: killed after the SMTP server received the
//     message and before the row says `sent` (waiting for the 250, or just after it). The message is then sent again with the
//     same Message-ID (`<mailing.account@issuer-host>`), which receiving systems use
//     to drop the duplicate.
import type { Knex } from 'knex';
import type { Job } from 'pg-boss';
import type { Transporter } from 'nodemailer';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { Delivery } from '../delivery/types.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { MAILING_RETRY_LIMIT, MAILING_SEND, findMailing, type MailingJob } from './mailings.ts';
import { renderMailing, withUnsubscribeLink } from './templates.ts';
import { unsubscribeToken } from './unsubscribe-token.ts';
import { LOCALES, type Locale } from '../i18n/locale.ts';

interface SendDeps {
  db: Knex;
  jobs: JobQueue;
  config: Config;
  logger: Logger;
  /** The dev outbox, when there is no SMTP_URL (headers are not kept there). */
  delivery: Delivery;
  unsubscribeKey: string;
}

/**
 * MAILING_RATE across every process on the database: one row holds the moment the
 * next send may start; each send takes that moment (or now, if it has passed) and
 * moves it one interval on, in one UPDATE, then waits until its moment. Times are
 * the database's, so processes with skewed clocks still keep the pace.
 */
function sharedPace(db: Knex, perMinute: number) {
  const gapSeconds = 60 / perMinute;
  return async () => {
    const { rows } = await db.raw(
      `insert into mailing_pace (name, next_at) values ('mailings', clock_timestamp() + make_interval(secs => ?::float8))
       on conflict (name) do update set next_at = greatest(mailing_pace.next_at, clock_timestamp()) + make_interval(secs => ?::float8)
       returning extract(epoch from (mailing_pace.next_at - clock_timestamp())) * 1000 - ?::float8 * 1000 as wait_ms`,
      [gapSeconds, gapSeconds, gapSeconds],
    ) as { rows: Array<{ wait_ms: string | number }> };
    const wait = Number(rows[0]?.wait_ms ?? 0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}

/** A paused mailing's job that was in hand: thrown, so pg-boss keeps it (retry) until pause cancels it and resume brings it back. */
class MailingPaused extends Error {}

function smtpError(err: unknown): number | undefined {
  const code = (err as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' ? code : undefined;
}

export async function startMailingWorker(deps: SendDeps): Promise<{ close(): Promise<void> }> {
  const { db, config, logger } = deps;
  const log = logger.child({ component: 'mailings' });
  const host = new URL(config.issuer).hostname;
  const perMinute = config.delivery.mailingRate;
  const pace = sharedPace(db, perMinute);
  let transport: Promise<Transporter> | undefined;
  const smtp = () => (transport ??= import('nodemailer').then(({ createTransport }) =>
    createTransport({
      url: config.delivery.smtpUrl, pool: true, maxConnections: 2, maxMessages: 1000,
      connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 10_000, disableFileAccess: true, disableUrlAccess: true,
    })));

  async function handle(job: Job<MailingJob>): Promise<void> {
    const { mailingId, accountId } = job.data;
    const where = { mailing_id: mailingId, account_id: accountId };
    const open = () => db('mailing_recipients').first('email', 'locale').where(where).whereIn('state', ['queued', 'sending']);
    // Only a row not yet sent, failed or skipped is sent.
    if (!(await open())) return;
    const settle = (state: string, extra: Record<string, unknown> = {}) =>
      db('mailing_recipients').where(where).whereIn('state', ['queued', 'sending']).update({ state, updated_at: db.fn.now(), ...extra });
    const status = async () => (await db('mailings').first('status').where({ id: mailingId }))?.status as string | undefined;
    const mailing = await findMailing(db, mailingId);
    if (!mailing || mailing.status === 'cancelled') return void (await settle('skipped', { reason: 'cancelled' }));
    if (mailing.status === 'paused') throw new MailingPaused('the mailing is paused');
    // Unsubscribed or bounced since the mailing started; the address as it is now.
    const account = await db('accounts as a').first('a.id', 'a.email', 'a.phone', 'a.email_verified_at',
      db.raw('exists (select 1 from mailing_unsubscribes u where u.account_id = a.id) as unsubscribed'),
      db.raw('exists (select 1 from mail_bounces b where b.address = lower(a.email)) as bounced')).where('a.id', accountId);
    if (!account?.email || !account.email_verified_at) return void (await settle('skipped', { reason: 'no_confirmed_email' }));
    if (account.unsubscribed) return void (await settle('skipped', { reason: 'unsubscribed' }));
    if (account.bounced) return void (await settle('skipped', { reason: 'bounced' }));

    // The shared pace first (it may wait): `sending` then spans only the SMTP exchange.
    await pace();
    const now = await status();
    if (now === 'cancelled') return void (await settle('skipped', { reason: 'cancelled' }));
    if (now === 'paused') throw new MailingPaused('the mailing is paused');
    // Claim, before any byte goes out: `sending` with one more attempt.
    const [row] = await db('mailing_recipients').where(where).whereIn('state', ['queued', 'sending'])
      .update({ state: 'sending', attempts: db.raw('attempts + 1'), updated_at: db.fn.now() }, ['email', 'locale']);
    if (!row) return;
    const locale: Locale = LOCALES.find((l) => l === row.locale) ?? 'en';
    const unsubscribeUrl = `${config.issuer}/unsubscribe/${unsubscribeToken(deps.unsubscribeKey, account.id)}`;
    const content = withUnsubscribeLink(renderMailing(mailing.templates, locale, { id: account.id, email: account.email, phone: account.phone }), locale, unsubscribeUrl);
    // The idempotency key of this message: the same on every attempt (docs/mailings.md).
    const messageId = `<${mailingId}.${accountId}@${host}>`;
    const { text } = content;
    try {
      if (config.delivery.smtpUrl) {
        await (await smtp()).sendMail({
          from: config.delivery.mailFrom, to: account.email, subject: content.subject, text, messageId,
          ...(content.html === undefined ? {} : { html: content.html }),
          // RFC 8058: one-click unsubscribe by POST to the same signed URL; RFC 2369 List-Unsubscribe.
          headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        });
      } else {
        await deps.delivery.send({ channel: 'email', to: account.email, subject: content.subject, text, ...(content.html === undefined ? {} : { html: content.html }) });
      }
    } catch (err) {
      const code = smtpError(err);
      if (code !== undefined && code >= 500) {
        // A hard failure: the address is marked, and skipped until the account has another.
        await db('mail_bounces').insert({ address: account.email.toLowerCase(), response_code: code }).onConflict('address').merge();
        return void (await settle('failed', { reason: `smtp_${code}` }));
      }
      if (job.retryCount >= MAILING_RETRY_LIMIT) return void (await settle('failed', { reason: code ? `smtp_${code}` : 'unreachable' }));
      await settle('queued');
      log.warn({ responseCode: code, attempt: job.retryCount + 1 }, 'mailing send failed; will retry');
      throw err;
    }
    await settle('sent', { message_id: messageId, reason: null });
  }

  // About five seconds of sends per batch, so a batch ends well within its jobs' expiry.
  const batchSize = Math.max(1, Math.min(50, Math.round((perMinute / 60) * 5)));
  await deps.jobs.work<MailingJob>(MAILING_SEND, { batchSize, pollingIntervalSeconds: 1, burstWhenBatchFull: true }, handle);
  return {
    async close() {
      (await transport?.catch(() => undefined))?.close();
    },
  };
}
