// Step-up on /account (flow kind `reauth`): before an email or phone is added
// or changed, a signed-in browser proves again that its person is there, by the
// account's password or by a code to one of its confirmed identifiers. A session
// cookie alone (a stolen or left-open browser) must not be enough to take the
// account over (OWASP ASVS V3.7.1: re-authenticate before sensitive changes;
// V2.2.3). A completed step-up counts for this session and account only, for
// REAUTH_FRESH_SECONDS.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { readForm, field } from '../http/read-form.ts';
import { maskIdentifier, type Identifier } from '../accounts/identifiers.ts';
import { verifyPassword } from '../accounts/passwords.ts';
import type { AccountRow } from '../accounts/queries.ts';
import { RateLimited } from '../errors/index.ts';
import { renderHtml } from '../interactions/interaction.ts';
import { sendFlowCode } from '../interactions/flows/send-code.ts';
import { requesterOf } from '../devices/device-cookie.ts';
import { codeProblem } from '../interactions/flows/code-problems.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import type { Flow } from '../flows/flow.ts';
import { reauthPage } from '../../views/reauth.ts';
import { strings } from '../../views/strings.ts';
import type { AccountTools, SignedIn } from './session.ts';

/** How long a completed re-authentication counts: 10 minutes (ASVS V3.7.1 leaves the window to the risk). */
export const REAUTH_FRESH_SECONDS = 10 * 60;

/** The identifiers a re-authentication code may go to: confirmed ones only (a code to an unconfirmed one proves nothing about this person). */
export function reauthCodeTargets(account: AccountRow): Identifier[] {
  const targets: Identifier[] = [];
  if (account.email && account.email_verified_at) targets.push({ kind: 'email', value: account.email });
  if (account.phone && account.phone_verified_at) targets.push({ kind: 'phone', value: account.phone });
  return targets;
}

/** The session's completed re-authentication while it counts, or undefined. */
export function freshReauth(deps: InteractionDeps, me: SignedIn): Promise<Flow | undefined> {
  return deps.flows.findLatest({ kind: 'reauth', state: 'completed', boundTo: me.binding, accountId: me.account.id });
}

export function reauthRoutes(router: Router, deps: InteractionDeps, tools: AccountTools): void {
  function page(ctx: Context, me: SignedIn, status: number, extra: { notice?: string; error?: string; passwordError?: string } = {}) {
    const { account } = me;
    renderHtml(ctx, status, reauthPage({
      ...tools.frame(ctx, '/account/reauth'),
      csrf: tools.csrf.tokenFor(me.binding),
      username: account.email ?? account.phone ?? undefined,
      hasPassword: account.password_hash !== null,
      codeTargets: reauthCodeTargets(account).map((target) => ({ kind: target.kind, masked: maskIdentifier(target) })),
      ...extra,
    }));
  }

  router.get('/reauth', async (ctx) => {
    const me = await tools.signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    page(ctx, me, 200, ctx.query.needed !== undefined ? { notice: strings(tools.locale(ctx)).reauthNeededAny } : {});
  });

  router.post('/reauth/password', async (ctx) => {
    const me = await tools.signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const form = await readForm(ctx);
    tools.csrf.check(me.binding, field(form, 'csrf'));
    const password = field(form, 'password', 1024);
    const t = strings(tools.locale(ctx));
    const { account } = me;
    // The same counts as sign-in by password from a browser that is not a known device
    // (NIST SP 800-63B §5.2.2, ASVS V2.2.1; verification/password-attempts.ts): guesses
    // from a stolen session wait as a stranger's do and cannot add to what sign-in allows.
    const identifier: Identifier = account.email ? { kind: 'email', value: account.email } : { kind: 'phone', value: account.phone! };
    let attempt;
    try {
      attempt = await deps.passwordAttempts.begin({ identifier, ip: ctx.ip });
    } catch (err) {
      if (err instanceof RateLimited) {
        await auditSecurityEvent(deps, ctx, { action: 'reauth', outcome: 'refused', actorAccountId: account.id, details: { method: 'password', reason: 'rate_limited' } });
        return page(ctx, me, 429, { passwordError: t.tooMany(err.retryAfter) });
      }
      throw err;
    }
    try {
      // verifyPassword takes as long without a password hash, and answers false.
      if (!(await verifyPassword(account.password_hash, password))) {
        await attempt.failed();
        // ASVS 7.2.1: a failed step-up from a signed-in session (a stolen one, perhaps) is worth a record.
        await auditSecurityEvent(deps, ctx, { action: 'reauth', outcome: 'failure', actorAccountId: account.id, details: { method: 'password' } });
        return page(ctx, me, 401, { passwordError: t.reauthWrongPassword });
      }
      await attempt.succeeded();
    } finally {
      await attempt.release();
    }
    await deps.flows.create({
      kind: 'reauth',
      state: 'completed',
      ttlSeconds: REAUTH_FRESH_SECONDS,
      boundTo: me.binding,
      accountId: account.id,
      // The column is required; for a password it names the account's identifier.
      identifier,
      locale: tools.locale(ctx),
      data: { method: 'password' },
    });
    await auditSecurityEvent(deps, ctx, { action: 'reauth', outcome: 'success', actorAccountId: account.id, details: { method: 'password' } });
    ctx.status = 303;
    ctx.redirect('/account?reauthed');
  });

  router.post('/reauth/code', async (ctx) => {
    const me = await tools.signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const form = await readForm(ctx);
    tools.csrf.check(me.binding, field(form, 'csrf'));
    const t = strings(tools.locale(ctx));
    const identifier = reauthCodeTargets(me.account).find((target) => target.kind === field(form, 'to'));
    // Only a tampered form names an identifier the page did not offer.
    if (!identifier) return page(ctx, me, 400);
    const flow = await deps.flows.create({
      kind: 'reauth', boundTo: me.binding, accountId: me.account.id, identifier, locale: tools.locale(ctx), data: { method: 'code' },
    });
    try {
      // The message is the sign-in code's: the account exists and the code signs the person in again.
      await sendFlowCode(deps, flow, requesterOf(ctx));
    } catch (err) {
      await deps.flows.remove(flow.id);
      const problem = codeProblem(err, t);
      if (problem) return page(ctx, me, problem.status, { error: problem.error });
      throw err;
    }
    ctx.status = 303;
    ctx.redirect(`/account/flows/${flow.id}`);
  });
}
