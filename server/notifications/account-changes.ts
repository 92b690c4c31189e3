// After an email or phone is added, changed or removed, or the password or the
// account changes, tell the person on what they held before (OWASP ASVS V2.2.3:
// notify after updates to authentication details), so that a takeover through a
// signed-in browser, or a change made by an administrator (no ip: the notice says
// so), does not go unseen. Callers: the /account pages and the admin API.
import type { Identifier } from '../accounts/identifiers.ts';
import type { AccountRow } from '../accounts/queries.ts';
import type { Locale } from '../i18n/locale.ts';
import { confirmedContact, queueSecurityNotice, type NoticeDeps, type NoticeEvent } from './security-notices.ts';

/**
 * Who is told: the replaced value and the other kind's value, each only if it
 * was confirmed (an unconfirmed one may not be the person's). Nothing when the
 * value did not change.
 */
function recipients(before: AccountRow, now: Identifier): Identifier[] {
  const same = now.kind === 'email' ? before.email : before.phone;
  const sameConfirmed = now.kind === 'email' ? before.email_verified_at : before.phone_verified_at;
  const other = now.kind === 'email' ? before.phone : before.email;
  const otherConfirmed = now.kind === 'email' ? before.phone_verified_at : before.email_verified_at;
  if (same !== null && same.toLowerCase() === now.value.toLowerCase()) return [];
  const out: Identifier[] = [];
  if (same && sameConfirmed) out.push({ kind: now.kind, value: same });
  if (other && otherConfirmed) out.push({ kind: now.kind === 'email' ? 'phone' : 'email', value: other } as Identifier);
  return out;
}

/**
 * Queues the notices (./security-notices.ts): they are sent and
 * retried by the job queue, so one that cannot be delivered now neither delays nor
 * undoes the change.
 */
export async function notifyIdentifierChange(
  deps: NoticeDeps,
  input: { before: AccountRow; now: Identifier; ip?: string | null; locale?: Locale; userAgent?: string | null },
): Promise<void> {
  const replaced = (input.now.kind === 'email' ? input.before.email : input.before.phone) !== null;
  const to = recipients(input.before, input.now);
  if (to.length === 0) return;
  await queueSecurityNotice(deps, {
    account: input.before, event: replaced ? 'identifier.changed' : 'identifier.added', recipients: to, subject: input.now,
    origin: { ip: input.ip, userAgent: input.userAgent, locale: input.locale },
  });
}

/** The account events of the /account pages (issue 13 §1) that the person is told of. */
export type AccountEvent = Extract<NoticeEvent, 'password.set' | 'password.changed' | 'password.removed' | 'identifier.removed' | 'account.deleted'>;

/**
 * Queues the notice of `event`, to the account's confirmed email, else its confirmed
 * phone, as `account` was before the event (so a deleted account is still reached);
 * for a removed identifier also to that identifier, when it was confirmed.
 */
export async function notifyAccountEvent(
  deps: NoticeDeps,
  input: { account: AccountRow; event: AccountEvent; ip?: string | null; locale?: Locale; userAgent?: string | null; removed?: Identifier },
): Promise<void> {
  const to = confirmedContact(input.account);
  const removed = input.removed;
  if (removed && !to.some((r) => r.kind === removed.kind && r.value === removed.value)) {
    const confirmed = removed.kind === 'email' ? input.account.email_verified_at : input.account.phone_verified_at;
    if (confirmed) to.push(removed);
  }
  await queueSecurityNotice(deps, {
    account: input.account, event: input.event, recipients: to, ...(removed ? { subject: removed } : {}),
    origin: { ip: input.ip, userAgent: input.userAgent, locale: input.locale },
  });
}
