// /account: a signed-in person sees their email and phone and adds or changes
// one, proven by a code sent there (flow kind `confirm`, bound to the session),
// after proving again that it is them (flow kind `reauth`, ./reauth.ts). Beside
// it: removing an identifier and the language of messages (./profile.ts), the
// password (./password.ts), sessions and apps (./sessions.ts), deleting the
// account (./delete-account.ts); the code page here serves every flow of them.
import { createHash, randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { readForm, field } from '../http/read-form.ts';
import { InvalidIdentifier, parseIdentifier, maskIdentifier, type Identifier } from '../accounts/identifiers.ts';
import { setIdentifier } from '../accounts/queries.ts';
import { AppError, Conflict, RateLimited } from '../errors/index.ts';
import { renderHtml, viaOf } from '../interactions/interaction.ts';
import { sendFlowCode } from '../interactions/flows/send-code.ts';
import { requesterOf } from '../devices/device-cookie.ts';
import { codeProblem, resendInSeconds } from '../interactions/flows/code-problems.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import type { Flow } from '../flows/flow.ts';
import { accountPage } from '../../views/account.ts';
import { codePage } from '../../views/code.ts';
import { identifierIssueText, strings } from '../../views/strings.ts';
import { ACCOUNT_CLIENT_ID } from './first-party-client.ts';
import { accountTools } from './session.ts';
import { freshReauth, reauthRoutes, REAUTH_FRESH_SECONDS } from './reauth.ts';
import { notifyIdentifierChange } from '../notifications/account-changes.ts';
import { profileRoutes } from './profile.ts';
import { passwordRoutes } from './password.ts';
import { sessionsRoutes } from './sessions.ts';
import { deleteAccountNow, deleteAccountRoutes } from './delete-account.ts';

/** Where to go after signing in through /account/sign-in (set by /qr/:token on a phone). */
export const AFTER_SIGN_IN_COOKIE = 'enot_after_sign_in';

export function accountRouter(deps: InteractionDeps) {
  const router = new Router({ prefix: '/account' });
  const tools = accountTools(deps);
  const { csrf, locale, signedIn } = tools;

  async function show(ctx: Context, status: number, extra: { notice?: string; error?: { via?: 'email' | 'phone'; message: string; typed: string } } = {}) {
    const me = await signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    renderHtml(ctx, status, accountPage({
      ...tools.frame(ctx),
      csrf: csrf.tokenFor(me.binding),
      reauthFresh: (await freshReauth(deps, me)) !== undefined,
      email: me.account.email,
      emailVerified: me.account.email_verified_at !== null,
      phone: me.account.phone,
      phoneVerified: me.account.phone_verified_at !== null,
      messageLocale: me.account.locale,
      ...extra,
    }));
  }

  /** The code page of `flow`; `waitAtLeast`: a refused resend's wait, when longer than the flow's own. */
  async function codeStep(ctx: Context, binding: string, flow: Flow, status: number, extra: { error?: string; notice?: string; resendRefused?: boolean } = {}, waitAtLeast = 0) {
    renderHtml(ctx, status, codePage({
      ...tools.frame(ctx, `/account/flows/${flow.id}`),
      base: '/account',
      flowPath: `/account/flows/${flow.id}`,
      csrf: csrf.tokenFor(binding),
      sentTo: maskIdentifier(flow.identifier),
      resendInSeconds: Math.max(waitAtLeast, await resendInSeconds(deps, flow.id)),
      ...extra,
    }));
  }

  router.get('/', async (ctx) => {
    const t = strings(locale(ctx));
    const notice = ctx.query.saved !== undefined ? t.identifierAdded
      : ctx.query.reauthed !== undefined ? t.reauthDone
      : ctx.query.removed !== undefined ? t.identifierRemoved
      : ctx.query.language !== undefined ? t.messageLanguageSaved
      : undefined;
    await show(ctx, 200, notice ? { notice } : {});
  });

  reauthRoutes(router, deps, tools);
  profileRoutes(router, deps, tools, show);
  passwordRoutes(router, deps, tools);
  sessionsRoutes(router, deps, tools);
  deleteAccountRoutes(router, deps, tools);

  const toReauth = (ctx: Context) => tools.toReauth(ctx);

  // Sign in through the provider as the first-party client; the provider session it leaves is what /account reads.
  router.get('/sign-in', async (ctx) => {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${deps.config.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      redirect_uri: `${deps.config.issuer}/account/callback`,
      response_type: 'code',
      scope: 'openid',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    ctx.redirect(url.href);
  });

  // The code is not needed: signing in set the provider's session cookie.
  router.get('/callback', async (ctx) => {
    // Cancel on the sign-in page (or any refusal) ends at the start page, not at an error page with nowhere to go.
    if (ctx.query.error !== undefined) {
      ctx.redirect('/');
      return;
    }
    const next = ctx.cookies.get(AFTER_SIGN_IN_COOKIE);
    ctx.cookies.set(AFTER_SIGN_IN_COOKIE, null, { path: '/account' });
    // Only our own QR pages: never an open redirect.
    ctx.redirect(next && /^\/qr\/[A-Za-z0-9_-]{22}$/.test(next) ? next : '/account');
  });

  router.post('/identifiers', async (ctx) => {
    const me = await signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const form = await readForm(ctx);
    csrf.check(me.binding, field(form, 'csrf'));
    if (!(await freshReauth(deps, me))) return toReauth(ctx);
    const typed = field(form, 'identifier', 254);
    const via = viaOf(field(form, 'via'));
    const t = strings(locale(ctx));
    let identifier: Identifier;
    try {
      identifier = parseIdentifier(typed, deps.config.defaultPhoneRegion);
    } catch (err) {
      if (err instanceof InvalidIdentifier) return show(ctx, 400, { error: { via, message: identifierIssueText(t, err.issue), typed } });
      throw err;
    }
    const flow = await deps.flows.create({ kind: 'confirm', boundTo: me.binding, accountId: me.account.id, identifier, locale: locale(ctx) });
    try {
      await sendFlowCode(deps, flow, requesterOf(ctx));
    } catch (err) {
      await deps.flows.remove(flow.id);
      const problem = codeProblem(err, t);
      if (problem) return show(ctx, problem.status, { error: { via, message: problem.error, typed } });
      throw err;
    }
    ctx.status = 303;
    ctx.redirect(`/account/flows/${flow.id}`);
  });

  router.get('/flows/:flowId', async (ctx) => {
    const me = await signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    await codeStep(ctx, me.binding, await deps.flows.find(ctx.params.flowId!, me.binding), 200);
  });

  router.post('/flows/:flowId/resend', async (ctx) => {
    const me = await signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const form = await readForm(ctx);
    csrf.check(me.binding, field(form, 'csrf'));
    const flow = await deps.flows.find(ctx.params.flowId!, me.binding);
    const t = strings(locale(ctx));
    if (flow.state !== 'code_sent') return codeStep(ctx, me.binding, flow, 400, { error: t.codeExpired });
    try {
      await sendFlowCode(deps, flow, requesterOf(ctx));
    } catch (err) {
      // Asked too early: nothing is wrong with the code, so the wait is said at the resend button.
      if (err instanceof RateLimited) return codeStep(ctx, me.binding, flow, 429, { resendRefused: true }, err.retryAfter);
      const problem = codeProblem(err, t);
      if (problem) return codeStep(ctx, me.binding, flow, problem.status, { error: problem.error });
      throw err;
    }
    await codeStep(ctx, me.binding, flow, 200, { notice: t.newCodeSent });
  });

  router.post('/flows/:flowId/code', async (ctx) => {
    const me = await signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const form = await readForm(ctx);
    csrf.check(me.binding, field(form, 'csrf'));
    const flow = await deps.flows.find(ctx.params.flowId!, me.binding);
    const t = strings(locale(ctx));
    if ((flow.kind !== 'confirm' && flow.kind !== 'reauth' && flow.kind !== 'delete-account') || flow.accountId !== me.account.id || flow.state !== 'code_sent') {
      return codeStep(ctx, me.binding, flow, 400, { error: t.codeExpired });
    }
    // Checked again when the change is made, before the code is spent: the step-up may have run out meanwhile.
    if (flow.kind === 'confirm' && !(await freshReauth(deps, me))) return toReauth(ctx);
    try {
      await deps.codes.verify({ flowId: flow.id, code: field(form, 'code', 32).replace(/\s+/g, ''), ip: ctx.ip });
    } catch (err) {
      // ASVS 7.2.1: a failed step-up by code, or a failed proof of the identifier being added.
      await auditSecurityEvent(deps, ctx, {
        action: flow.kind === 'reauth' ? 'reauth' : flow.kind === 'delete-account' ? 'account.deleted' : 'identifier.changed',
        outcome: err instanceof RateLimited ? 'refused' : 'failure',
        actorAccountId: me.account.id,
        details: { method: 'code', kind: flow.identifier.kind, reason: err instanceof AppError ? err.code : 'error' },
      });
      const problem = codeProblem(err, t);
      if (problem) return codeStep(ctx, me.binding, flow, problem.status, { error: problem.error });
      throw err;
    }
    if (flow.kind === 'delete-account') {
      await deps.flows.transition(flow, 'completed');
      return deleteAccountNow(ctx, deps, tools, me);
    }
    if (flow.kind === 'reauth') {
      await deps.flows.transition(flow, 'completed', { ttlSeconds: REAUTH_FRESH_SECONDS });
      await auditSecurityEvent(deps, ctx, { action: 'reauth', outcome: 'success', actorAccountId: me.account.id, details: { method: 'code', kind: flow.identifier.kind } });
      ctx.status = 303;
      ctx.redirect('/account?reauthed');
      return;
    }
    await deps.flows.transition(flow, 'completed');
    try {
      await setIdentifier(deps.db, me.account.id, flow.identifier);
    } catch (err) {
      // The person proved they hold it, so saying it is taken reveals nothing new.
      if (err instanceof Conflict) {
        await auditSecurityEvent(deps, ctx, { action: 'identifier.changed', outcome: 'failure', actorAccountId: me.account.id, details: { kind: flow.identifier.kind, reason: 'taken' } });
        return show(ctx, 409, { error: { via: flow.identifier.kind, message: t.identifierTaken, typed: flow.identifier.value } });
      }
      throw err;
    }
    // ASVS 7.2.2: the identifiers are how the account is signed in to and recovered. Which kind, and whether it replaced one; not the address.
    await auditSecurityEvent(deps, ctx, {
      action: 'identifier.changed', outcome: 'success', actorAccountId: me.account.id,
      details: { kind: flow.identifier.kind, replaced: (flow.identifier.kind === 'email' ? me.account.email : me.account.phone) !== null },
    });
    await notifyIdentifierChange(deps, { before: me.account, now: flow.identifier, ip: ctx.ip, locale: me.account.locale ?? flow.locale });
    ctx.status = 303;
    ctx.redirect('/account?saved');
  });

  return router;
}
