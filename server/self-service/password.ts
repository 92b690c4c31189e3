// /account/password: set a password, change it, or remove it. Each needs a fresh
// step-up in this session (./reauth.ts: the current password or a code to a
// confirmed identifier; OWASP ASVS V2.1.6 asks for the current password or an
// equivalent proof, V3.7.1). A new password follows the sign-up policy
// (accounts/password-policy.ts, NIST SP 800-63B §5.1.1.2). Removing is allowed
// only while a confirmed email or phone remains for sign-in by code. The person is
// told on every confirmed identifier (ASVS V2.2.3).
import type Router from '@koa/router';
import type { Context } from 'koa';
import { field } from '../http/read-form.ts';
import { newPasswordIssue } from '../accounts/password-policy.ts';
import { hashPassword } from '../accounts/passwords.ts';
import { setPasswordHash } from '../accounts/queries.ts';
import { renderHtml } from '../interactions/interaction.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import { accountPasswordPage } from '../../views/account-password.ts';
import { passwordIssueText, strings } from '../../views/strings.ts';
import { freshReauth, reauthCodeTargets } from './reauth.ts';
import { notifyAccountEvent } from '../notifications/account-changes.ts';
import type { AccountTools, SignedIn } from './session.ts';

export function passwordRoutes(router: Router, deps: InteractionDeps, tools: AccountTools): void {
  async function page(ctx: Context, me: SignedIn, status: number, extra: { notice?: string; error?: string; passwordError?: string } = {}) {
    renderHtml(ctx, status, accountPasswordPage({
      ...tools.frame(ctx, '/account/password'),
      csrf: tools.csrf.tokenFor(me.binding),
      username: me.account.email ?? me.account.phone ?? '',
      hasPassword: me.account.password_hash !== null,
      canRemove: reauthCodeTargets(me.account).length > 0,
      reauthFresh: (await freshReauth(deps, me)) !== undefined,
      ...extra,
    }));
  }

  router.get('/password', async (ctx) => {
    const me = await tools.signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const t = strings(tools.locale(ctx));
    await page(ctx, me, 200, ctx.query.saved !== undefined ? { notice: t.passwordSaved } : ctx.query.removed !== undefined ? { notice: t.passwordRemoved } : {});
  });

  router.post('/password', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me, form } = signed;
    const password = field(form, 'password', 1024);
    if (!(await freshReauth(deps, me))) return tools.toReauth(ctx);
    const t = strings(tools.locale(ctx));
    const issue = await newPasswordIssue(password, { issuer: deps.config.issuer, identifiers: [me.account.email, me.account.phone] });
    if (issue) {
      await auditSecurityEvent(deps, ctx, { action: 'password.changed', outcome: 'refused', actorAccountId: me.account.id, details: { method: 'account', reason: issue } });
      return page(ctx, me, 400, { passwordError: passwordIssueText(t, issue) });
    }
    const had = me.account.password_hash !== null;
    await setPasswordHash(deps.db, me.account.id, await hashPassword(password));
    // ASVS 7.2.2: a change to a credential, never the credential.
    await auditSecurityEvent(deps, ctx, { action: 'password.changed', outcome: 'success', actorAccountId: me.account.id, details: { method: 'account', replaced: had } });
    await notifyAccountEvent(deps, { account: me.account, event: had ? 'password.changed' : 'password.set', ip: ctx.ip, userAgent: ctx.get('user-agent'), locale: tools.locale(ctx) });
    tools.seeOther(ctx, '/account/password?saved');
  });

  router.post('/password/remove', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me } = signed;
    if (!(await freshReauth(deps, me))) return tools.toReauth(ctx);
    if (me.account.password_hash === null) return tools.seeOther(ctx, '/account/password');
    if (reauthCodeTargets(me.account).length === 0) {
      await auditSecurityEvent(deps, ctx, { action: 'password.removed', outcome: 'refused', actorAccountId: me.account.id, details: { reason: 'no_confirmed_identifier' } });
      return page(ctx, me, 409, { error: strings(tools.locale(ctx)).passwordRemoveRefused });
    }
    await setPasswordHash(deps.db, me.account.id, null);
    await auditSecurityEvent(deps, ctx, { action: 'password.removed', outcome: 'success', actorAccountId: me.account.id });
    await notifyAccountEvent(deps, { account: me.account, event: 'password.removed', ip: ctx.ip, userAgent: ctx.get('user-agent'), locale: tools.locale(ctx) });
    tools.seeOther(ctx, '/account/password?removed');
  });
}
