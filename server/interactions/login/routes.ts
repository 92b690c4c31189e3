// The login prompt: the sign-in page, and sign-in by password.
import type { Router, RouterMiddleware } from '@koa/router';
import { readForm, field } from '../../http/read-form.ts';
import { InvalidIdentifier, parseIdentifier } from '../../accounts/identifiers.ts';
import { findAccountByIdentifier } from '../../accounts/queries.ts';
import { knownDeviceOf } from '../../devices/known-devices.ts';
import { readDeviceId } from '../../devices/device-cookie.ts';
import { verifyPassword } from '../../accounts/passwords.ts';
import { RateLimited } from '../../errors/index.ts';
import { signInPage } from '../../../views/sign-in.ts';
import { identifierIssueText, strings } from '../../../views/strings.ts';
import { renderHtml, viaOf, type InteractionTools } from '../interaction.ts';
import type { InteractionDeps } from '../deps.ts';
import { newQrBlock, offersQr } from '../qr/routes.ts';
import { auditSecurityEvent } from '../../audit/security-event.ts';

export function loginRoutes(router: Router, deps: InteractionDeps, tools: InteractionTools, consentPage: RouterMiddleware) {
  router.get('/:uid', async (ctx, next) => {
    const interaction = await tools.load(ctx);
    if (interaction.prompt.name === 'create' && ctx.query.signin === undefined) {
      ctx.redirect(`${tools.base(interaction)}/register?via=${viaOf(ctx.query.via)}`);
      return;
    }
    // "Not you?" on the consent page (?switch): the sign-in page of this same authorization
    // request. Signing in there as another account hands oidc-provider a login result for
    // an account other than the session's; it then ends that session first, through its
    // own end_session_confirm (its resume, lib/actions/authorization/resume.js: the
    // other account's clients get their logout notices), and resumes the request with
    // the new account, whose consent is asked afresh. The same request, state, nonce
    // and PKCE challenge: nothing to rebuild, nothing the client has to repeat (a new
    // prompt=login request would need the client; ending the session here first would
    // leave this interaction without the session it belongs to).
    const switching = ctx.query.switch !== undefined && interaction.prompt.name === 'consent';
    if (interaction.prompt.name !== 'login' && interaction.prompt.name !== 'create' && !switching) return consentPage(ctx, next);
    renderHtml(ctx, 200, signInPage({
      ...tools.frame(ctx, interaction),
      base: tools.base(interaction),
      csrf: tools.csrf.tokenFor(interaction.uid),
      ...(await tools.clientShown(ctx, interaction)),
      backTo: tools.backTo(interaction),
      via: viaOf(ctx.query.via),
      identifier: typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined,
      // Not when this browser is itself signing in to approve a QR (the account page's own client).
      qr: offersQr(interaction) ? await newQrBlock(ctx, deps, tools, interaction) : undefined,
    }));
  });

  router.post('/:uid/login', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    const locale = tools.locale(ctx, interaction);
    const t = strings(locale);
    const typed = field(form, 'identifier', 254);
    const password = field(form, 'password', 1024);
    const via = viaOf(field(form, 'via'));
    const shown = await tools.clientShown(ctx, interaction);
    const page = (status: number, extra: { error?: string; passwordError?: string }) =>
      renderHtml(ctx, status, signInPage({
        ...tools.frame(ctx, interaction), base: tools.base(interaction), csrf: tools.csrf.tokenFor(interaction.uid),
        ...shown, backTo: tools.backTo(interaction), via, identifier: typed, ...extra,
      }));

    let identifier;
    try {
      identifier = parseIdentifier(typed, deps.config.defaultPhoneRegion);
    } catch (err) {
      if (err instanceof InvalidIdentifier) return page(400, { error: identifierIssueText(t, err.issue) });
      throw err;
    }
    const account = await findAccountByIdentifier(deps.db, identifier);
    let attempt;
    try {
      attempt = await deps.passwordAttempts.begin({
        identifier,
        ip: ctx.ip,
        knownDevice: await knownDeviceOf(deps.db, identifier, readDeviceId(ctx)),
      });
    } catch (err) {
      if (!(err instanceof RateLimited)) throw err;
      await auditSecurityEvent(deps, ctx, { action: 'sign_in.password', outcome: 'refused', targetAccountId: account?.id, details: { reason: 'rate_limited' } });
      ctx.set('Retry-After', String(err.retryAfter));
      return page(429, { error: t.tooMany(err.retryAfter) });
    }
    try {
      // Always verify, so a missing account costs the same time as a wrong password.
      const matches = await verifyPassword(account?.password_hash, password);
      if (!account || !matches || account.status !== 'active') {
        // NIST SP 800-63B §5.2.2: failed attempts are limited per account (and per address here).
        await attempt.failed();
        deps.metrics.signIns.inc({ method: 'password', outcome: 'failure' });
        // ASVS 7.2.1: failed attempts too; the account (if any) is the target, not the actor: nothing was proven.
        await auditSecurityEvent(deps, ctx, {
          action: 'sign_in.password', outcome: 'failure', targetAccountId: account?.id,
          details: { reason: !account ? 'unknown_account' : account.status !== 'active' ? 'account_not_active' : 'wrong_credentials' },
        });
        return page(401, { passwordError: t.wrongPassword });
      }
      deps.metrics.signIns.inc({ method: 'password', outcome: 'success' });
      await auditSecurityEvent(deps, ctx, { action: 'sign_in.password', outcome: 'success', actorAccountId: account.id });
      await attempt.succeeded();
    } finally {
      await attempt.release();
    }
    await tools.finish(ctx, tools.loginResult(interaction, account.id, ['pwd']));
  });
}
