// Sends the code that proves an identifier. The message tells the truth (an
// account exists or not), the page never does: no account enumeration
// (OWASP ASVS V2.2 / Authentication Cheat Sheet, "Authentication Responses").
import type { Flow } from '../../flows/flow.ts';
import { findAccountById, findAccountByIdentifier } from '../../accounts/queries.ts';
import { isKnown } from '../../devices/known-devices.ts';
import type { Requester } from '../../devices/device-cookie.ts';
import { branded } from '../../../views/messages/branded.ts';
import { verificationCodeMessage, type CodePurpose } from '../../../views/messages/verification-code.ts';
import { CODE_LIMITS } from '../../verification/limits.ts';
import type { InteractionDeps } from '../deps.ts';
import { auditSecurityEvent } from '../../audit/security-event.ts';

/** What the code will do once entered, given whether an account holds the identifier. */
function purposeOf(flow: Flow, accountExists: boolean): CodePurpose {
  if (flow.kind === 'confirm') return 'confirm';
  if (flow.kind === 'delete-account') return 'account-deletion';
  if (!accountExists) return 'register';
  return flow.kind === 'recover' ? 'password-reset' : 'sign-in';
}

/** `requester`: who asks (devices/device-cookie.ts requesterOf); a known device of the account has its own count of sends. */
export async function sendFlowCode(deps: InteractionDeps, flow: Flow, requester: Requester): Promise<void> {
  const account = await findAccountByIdentifier(deps.db, flow.identifier);
  const purpose = purposeOf(flow, account !== undefined);
  const channel = flow.identifier.kind === 'email' ? 'email' : 'sms';
  const knownDevice = requester.deviceId && (await isKnown(deps.db, account?.id ?? '', requester.deviceId)) ? requester.deviceId : undefined;
  // The language the person chose for messages on /account (the signed-in account's for
  // a change on /account, else the holder's), else the page's at the time.
  const owner = flow.accountId ? await findAccountById(deps.db, flow.accountId) : account;
  const { code } = await deps.codes.issue({ flowId: flow.id, purpose, channel, identifier: flow.identifier.value, ip: requester.ip, knownDevice });
  const delivered = deps.delivery.send(branded(
    verificationCodeMessage({
      channel,
      // The stored form when the account exists (an email's local part keeps the case it was registered with).
      to: (flow.kind !== 'confirm' && (flow.identifier.kind === 'email' ? account?.email : account?.phone)) || flow.identifier.value,
      code,
      purpose,
      locale: owner?.locale ?? flow.locale,
      host: new URL(deps.config.issuer).hostname,
      minutes: Math.round(CODE_LIMITS.ttlSeconds / 60),
    }),
    deps.config.brand.name,
  ));
  // ASVS 7.1.1: channel and purpose only, never the code nor the address. The
  // account is the one the code is for: the signed-in one adding an identifier
  // (confirm, reauth: flow.accountId), else the one holding the identifier, if any.
  const audit = (outcome: 'success' | 'failure') => auditSecurityEvent(deps, requester, {
    action: 'code.sent',
    outcome,
    actorAccountId: flow.accountId,
    targetAccountId: flow.accountId ?? account?.id,
    details: { channel, purpose, flow: flow.kind },
  });
  try {
    await delivered;
    deps.metrics.codesSent.inc({ channel, outcome: 'sent' });
    await audit('success');
  } catch (err) {
    deps.metrics.codesSent.inc({ channel, outcome: 'failed' });
    await audit('failure');
    throw err;
  }
}
