// /account/delete: a person deletes their own account. Confirmed by a fresh code
// to a confirmed email or phone (flow kind `delete-account`, entered on the code
// page of ./routes.ts), never by the session alone. Deleting ends every session,
// grant and token wherever stored (runtime.revokeAccount), deletes the account
// row with what hangs on it (roles, flows, QR logins, known devices, remembered
// consents, session browsers: ON DELETE CASCADE) and the codes and flows sent to
// its email and phone. The audit record keeps only the account id: no address,
// IP or user agent. The person is told on their confirmed identifiers.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { field } from '../http/read-form.ts';
import { maskIdentifier } from '../accounts/identifiers.ts';
import { deleteAccount } from '../accounts/queries.ts';
import { forgetCodesTo } from '../verification/codes.ts';
import { renderHtml } from '../interactions/interaction.ts';
import { sendFlowCode } from '../interactions/flows/send-code.ts';
import { codeProblem } from '../interactions/flows/code-problems.ts';
import { requesterOf } from '../devices/device-cookie.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import { accountDeletedPage, accountDeletePage } from '../../views/account-delete.ts';
import { strings } from '../../views/strings.ts';
import { reauthCodeTargets } from './reauth.ts';
import { notifyAccountEvent } from '../notifications/account-changes.ts';
import type { AccountTools, SignedIn } from './session.ts';

/** Deletes the signed-in account now (its code was just verified) and answers with the page that says so. */
export async function deleteAccountNow(ctx: Context, deps: InteractionDeps, tools: AccountTools, me: SignedIn): Promise<void> {
  const { account } = me;
  const identifiers = [account.email, account.phone].filter((value): value is string => value !== null);
  await deleteAccount(deps.db, account.id);
  await deps.revokeAccount(account.id);
  await Promise.all([forgetCodesTo(deps.db, identifiers), deps.flows.forgetIdentifiers(identifiers)]);
  // Only the account id: no origin (IP, user agent), no details.
  await auditSecurityEvent(deps, undefined, { action: 'account.deleted', outcome: 'success', actorAccountId: account.id });
  await notifyAccountEvent(deps, { account, event: 'account.deleted', ip: ctx.ip, userAgent: ctx.get('user-agent'), locale: tools.locale(ctx) });
  renderHtml(ctx, 200, accountDeletedPage(tools.frame(ctx, '/')));
}

export function deleteAccountRoutes(router: Router, deps: InteractionDeps, tools: AccountTools): void {
  function page(ctx: Context, me: SignedIn, status: number, error?: string) {
    renderHtml(ctx, status, accountDeletePage({
      ...tools.frame(ctx, '/account/delete'),
      csrf: tools.csrf.tokenFor(me.binding),
      codeTargets: reauthCodeTargets(me.account).map((target) => ({ kind: target.kind, masked: maskIdentifier(target) })),
      error,
    }));
  }

  router.get('/delete', async (ctx) => {
    const me = await tools.signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    page(ctx, me, 200);
  });

  // Sends the code; the code page (/account/flows/:id) takes it and deletes.
  router.post('/delete', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me, form } = signed;
    const identifier = reauthCodeTargets(me.account).find((target) => target.kind === field(form, 'to'));
    // Only a tampered form names an identifier the page did not offer.
    if (!identifier) return page(ctx, me, 400, strings(tools.locale(ctx)).invalidInput);
    const flow = await deps.flows.create({ kind: 'delete-account', boundTo: me.binding, accountId: me.account.id, identifier, locale: tools.locale(ctx) });
    try {
      await sendFlowCode(deps, flow, requesterOf(ctx));
    } catch (err) {
      await deps.flows.remove(flow.id);
      const problem = codeProblem(err, strings(tools.locale(ctx)));
      if (problem) return page(ctx, me, problem.status, problem.error);
      throw err;
    }
    tools.seeOther(ctx, `/account/flows/${flow.id}`);
  });
}
