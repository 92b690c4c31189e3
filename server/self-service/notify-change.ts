// After an email or phone is added or changed, tell the person on what they
// held before (OWASP ASVS V2.2.3: notify after updates to authentication
// details), so that a takeover through a signed-in browser does not go unseen.
import { maskIdentifier, type Identifier } from '../accounts/identifiers.ts';
import type { AccountRow } from '../accounts/queries.ts';
import type { Locale } from '../i18n/locale.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { reauthCodeTargets } from './reauth.ts';
import { identifierChangedMessage, type IdentifierChange } from '../../views/messages/identifier-changed.ts';
import { accountEventMessage, type AccountEvent } from '../../views/messages/account-event.ts';

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

/** Sends the notices; one that cannot be delivered is logged (never its address) and does not undo the change. */
export async function notifyIdentifierChange(
  deps: InteractionDeps,
  input: { before: AccountRow; now: Identifier; ip: string; locale: Locale },
): Promise<void> {
  const replaced = (input.now.kind === 'email' ? input.before.email : input.before.phone) !== null;
  const change = `${input.now.kind}-${replaced ? 'changed' : 'added'}` as IdentifierChange;
  const at = new Date(deps.now());
  await Promise.all(recipients(input.before, input.now).map(async (to) => {
    const channel = to.kind === 'email' ? 'email' : 'sms';
    try {
      await deps.delivery.send(identifierChangedMessage({
        channel, to: to.value, change, masked: maskIdentifier(input.now), at, ip: input.ip, locale: input.locale,
      }));
    } catch (err) {
      // The transport has logged why, without the address; this line says what was lost.
      deps.logger.warn({ channel, change, err: err instanceof Error ? err.name : String(err) }, 'identifier change notice not delivered');
    }
  }));
}

/**
 * Minimal stand-in until the notification queue (issue 13 §2) replaces this file:
 * tells every confirmed email and phone of `account` (as it was before the change,
 * so a removed one hears of it too) that `event` happened, in the account's
 * chosen language, else `locale`. Sent at once; one that cannot be delivered is
 * logged (never its address) and does not undo the change.
 */
export async function notifyAccountEvent(
  deps: InteractionDeps,
  input: { account: AccountRow; event: AccountEvent; ip: string; locale: Locale },
): Promise<void> {
  const { account } = input;
  const at = new Date(deps.now());
  await Promise.all(reauthCodeTargets(account).map(async (recipient) => {
    const channel = recipient.kind === 'email' ? 'email' : 'sms';
    try {
      await deps.delivery.send(accountEventMessage({ channel, to: recipient.value, event: input.event, at, ip: input.ip, locale: account.locale ?? input.locale }));
    } catch (err) {
      deps.logger.warn({ channel, event: input.event, err: err instanceof Error ? err.name : String(err) }, 'account event notice not delivered');
    }
  }));
}
