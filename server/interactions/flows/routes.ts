// Sign in by code, register and recover: each starts from a form, sends a code,
// and continues at /interaction/:uid/flows/:flowId until the flow completes.
// The flows' state machines are in server/flows/flow.ts.
import { queueSecurityNotice } from '../../notifications/security-notices.ts';
import type { Router, RouterMiddleware } from '@koa/router';
import type { Context } from 'koa';
import { readForm, field } from '../../http/read-form.ts';
import { InvalidIdentifier, maskIdentifier, parseIdentifier } from '../../accounts/identifiers.ts';
import { findAccountByIdentifier, markIdentifierVerified, setPasswordHash } from '../../accounts/queries.ts';
import { hashPassword } from '../../accounts/passwords.ts';
import { newPasswordIssue } from '../../accounts/password-policy.ts';
import { insertVerifiedAccount } from '../../accounts/create-account.ts';
import { AppError, RateLimited } from '../../errors/index.ts';
import type { Flow, FlowKind } from '../../flows/flow.ts';
import type { Identifier } from '../../accounts/identifiers.ts';
import { signInPage } from '../../../views/sign-in.ts';
import { registerPage } from '../../../views/register.ts';
import { recoverPage } from '../../../views/recover.ts';
import { codePage } from '../../../views/code.ts';
import { newPasswordPage } from '../../../views/new-password.ts';
import { identifierIssueText, passwordIssueText, strings } from '../../../views/strings.ts';
import type { Via } from '../../../views/fields.ts';
import { renderHtml, viaOf, type Interaction, type InteractionTools } from '../interaction.ts';
import { sendFlowCode } from './send-code.ts';
import { readDeviceId, requesterOf } from '../../devices/device-cookie.ts';
import { knownDeviceOf } from '../../devices/known-devices.ts';
import { codeProblem, resendInSeconds } from './code-problems.ts';
import type { InteractionDeps } from '../deps.ts';
import { auditSecurityEvent } from '../../audit/security-event.ts';

/** RFC 8176 authentication method references for a proof by code. */
const amrFor = (identifier: Identifier) => (identifier.kind === 'phone' ? ['otp', 'sms'] : ['otp']);

export function flowRoutes(router: Router, deps: InteractionDeps, tools: InteractionTools): void {
  /** Renders the page a flow starts from, with what was typed and an error. */
  async function startPage(ctx: Context, interaction: Interaction, kind: FlowKind, status: number, input: {
    via: Via; identifier?: string; identifierError?: string; passwordError?: string; error?: string;
  }) {
    // A form's answer: the switcher goes back to the form's own page.
    const back = kind === 'sign-in' ? tools.base(interaction) : `${tools.base(interaction)}/${kind}?via=${input.via}`;
    const common = { ...tools.frame(ctx, interaction, back), base: tools.base(interaction), csrf: tools.csrf.tokenFor(interaction.uid), ...input };
    if (kind === 'register') return renderHtml(ctx, status, registerPage({ ...common, clientName: await tools.clientName(ctx, interaction) }));
    if (kind === 'recover') return renderHtml(ctx, status, recoverPage(common));
    return renderHtml(ctx, status, signInPage({ ...common, ...(await tools.clientShown(ctx, interaction)), backTo: tools.backTo(interaction), error: input.identifierError ?? input.error }));
  }

  /** The code page of `flow`; `waitAtLeast`: a refused resend's wait, when longer than the flow's own. */
  async function codeStep(ctx: Context, interaction: Interaction, flow: Flow, status: number, extra: { error?: string; notice?: string; resendRefused?: boolean } = {}, waitAtLeast = 0) {
    const flowPath = `${tools.base(interaction)}/flows/${flow.id}`;
    renderHtml(ctx, status, codePage({
      ...tools.frame(ctx, interaction, flowPath),
      base: tools.base(interaction),
      flowPath,
      csrf: tools.csrf.tokenFor(interaction.uid),
      sentTo: maskIdentifier(flow.identifier),
      resendInSeconds: Math.max(waitAtLeast, await resendInSeconds(deps, flow.id)),
      ...extra,
    }));
  }

  /** POST handler that starts a flow of `kind`: identifier (and for register, a password), then a code. */
  function start(kind: FlowKind): RouterMiddleware {
    return async (ctx) => {
      const interaction = await tools.load(ctx);
      const form = await readForm(ctx);
      tools.csrf.check(interaction.uid, field(form, 'csrf'));
      const locale = tools.locale(ctx, interaction);
      const t = strings(locale);
      const typed = field(form, 'identifier', 254);
      const via = viaOf(field(form, 'via'));
      const password = kind === 'register' ? field(form, 'password', 1024) : '';

      let identifier: Identifier;
      try {
        identifier = parseIdentifier(typed, deps.config.defaultPhoneRegion);
      } catch (err) {
        if (err instanceof InvalidIdentifier) return startPage(ctx, interaction, kind, 400, { via, identifier: typed, identifierError: identifierIssueText(t, err.issue) });
        throw err;
      }
      const passwordIssue = password ? await newPasswordIssue(password, { issuer: deps.config.issuer, identifiers: [identifier.value] }) : undefined;
      if (passwordIssue) return startPage(ctx, interaction, kind, 400, { via, identifier: typed, passwordError: passwordIssueText(t, passwordIssue) });

      // The pending password is only ever applied to an account this flow creates.
      const data = password ? { passwordHash: await hashPassword(password) } : {};
      const flow = await deps.flows.create({ kind, boundTo: `interaction:${interaction.uid}`, identifier, locale, data });
      try {
        await sendFlowCode(deps, flow, requesterOf(ctx));
      } catch (err) {
        await deps.flows.remove(flow.id);
        const problem = codeProblem(err, t);
        if (problem) return startPage(ctx, interaction, kind, problem.status, { via, identifier: typed, error: problem.error });
        throw err;
      }
      ctx.status = 303;
      ctx.redirect(`${tools.base(interaction)}/flows/${flow.id}`);
    };
  }

  for (const kind of ['register', 'recover'] as const) {
    router.get(`/:uid/${kind}`, async (ctx) => {
      const interaction = await tools.load(ctx);
      await startPage(ctx, interaction, kind, 200, { via: viaOf(ctx.query.via) });
    });
    router.post(`/:uid/${kind}`, start(kind));
  }
  router.post('/:uid/code', start('sign-in'));

  router.get('/:uid/flows/:flowId', async (ctx) => {
    const interaction = await tools.load(ctx);
    const flow = await deps.flows.find(ctx.params.flowId!, `interaction:${interaction.uid}`);
    if (flow.state === 'code_verified') {
      return renderHtml(ctx, 200, newPasswordPage({
        ...tools.frame(ctx, interaction), flowPath: `${tools.base(interaction)}/flows/${flow.id}`,
        csrf: tools.csrf.tokenFor(interaction.uid), username: flow.identifier.value,
      }));
    }
    await codeStep(ctx, interaction, flow, 200);
  });

  router.post('/:uid/flows/:flowId/resend', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    const flow = await deps.flows.find(ctx.params.flowId!, `interaction:${interaction.uid}`);
    const t = strings(tools.locale(ctx, interaction));
    if (flow.state !== 'code_sent') return codeStep(ctx, interaction, flow, 400, { error: t.codeExpired });
    try {
      await sendFlowCode(deps, flow, requesterOf(ctx));
    } catch (err) {
      // Asked too early: nothing is wrong with the code, so the wait is said at the resend button.
      if (err instanceof RateLimited) return codeStep(ctx, interaction, flow, 429, { resendRefused: true }, err.retryAfter);
      const problem = codeProblem(err, t);
      if (problem) return codeStep(ctx, interaction, flow, problem.status, { error: problem.error });
      throw err;
    }
    await codeStep(ctx, interaction, flow, 200, { notice: t.newCodeSent });
  });

  router.post('/:uid/flows/:flowId/code', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    const flow = await deps.flows.find(ctx.params.flowId!, `interaction:${interaction.uid}`);
    const t = strings(tools.locale(ctx, interaction));
    if (flow.state !== 'code_sent') return codeStep(ctx, interaction, flow, 400, { error: t.codeExpired });
    const code = field(form, 'code', 32).replace(/\s+/g, '');
    try {
      await deps.codes.verify({ flowId: flow.id, code, ip: ctx.ip, knownDevice: await knownDeviceOf(deps.db, flow.identifier, readDeviceId(ctx)) });
    } catch (err) {
      deps.metrics.signIns.inc({ method: 'code', outcome: 'failure' });
      // ASVS 7.2.1: a wrong or spent code is a failed authentication; the identifier's account (if any) is its target.
      await auditSecurityEvent(deps, ctx, {
        action: 'sign_in.code', outcome: err instanceof RateLimited ? 'refused' : 'failure',
        targetAccountId: (await findAccountByIdentifier(deps.db, flow.identifier))?.id,
        details: { flow: flow.kind, reason: err instanceof AppError ? err.code : 'error' },
      });
      const problem = codeProblem(err, t);
      if (problem) return codeStep(ctx, interaction, flow, problem.status, { error: problem.error });
      throw err;
    }

    deps.metrics.signIns.inc({ method: 'code', outcome: 'success' });
    if (flow.kind === 'recover') {
      await deps.flows.transition(flow, 'code_verified');
      ctx.status = 303;
      ctx.redirect(`${tools.base(interaction)}/flows/${flow.id}`);
      return;
    }
    await deps.flows.transition(flow, 'completed');
    const accountId = await provenAccount(deps, flow.identifier, flow.data.passwordHash ?? null);
    await auditSecurityEvent(deps, ctx, { action: 'sign_in.code', outcome: 'success', actorAccountId: accountId, details: { flow: flow.kind, channel: flow.identifier.kind } });
    await tools.finish(ctx, tools.loginResult(interaction, accountId, amrFor(flow.identifier)));
  });

  router.post('/:uid/flows/:flowId/password', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    const flow = await deps.flows.find(ctx.params.flowId!, `interaction:${interaction.uid}`);
    if (flow.kind !== 'recover' || flow.state !== 'code_verified') return ctx.redirect(`${tools.base(interaction)}/flows/${flow.id}`);
    const password = field(form, 'password', 1024);
    // The account's other identifier is as much the person's own word as the one they recover by.
    const existing = await findAccountByIdentifier(deps.db, flow.identifier);
    const issue = await newPasswordIssue(password, { issuer: deps.config.issuer, identifiers: [flow.identifier.value, existing?.email, existing?.phone] });
    if (issue) {
      return renderHtml(ctx, 400, newPasswordPage({
        ...tools.frame(ctx, interaction, `${tools.base(interaction)}/flows/${flow.id}`), flowPath: `${tools.base(interaction)}/flows/${flow.id}`,
        csrf: tools.csrf.tokenFor(interaction.uid), username: flow.identifier.value, error: passwordIssueText(strings(tools.locale(ctx, interaction)), issue),
      }));
    }
    const passwordHash = await hashPassword(password);
    await deps.flows.transition(flow, 'completed');
    if (existing?.status === 'blocked') throw new AppError(403, 'account_blocked', 'this account is blocked; contact the service');
    if (existing) {
      await setPasswordHash(deps.db, existing.id, passwordHash);
      // A new password ends every session and grant of the account, and so its tokens.
      await deps.revokeAccount(existing.id);
    }
    const accountId = existing?.id ?? (await provenAccount(deps, flow.identifier, passwordHash));
    // A new password on an existing account is told to the person (issue 13 §2); a new account's is not news.
    if (existing) {
      await queueSecurityNotice(deps, {
        account: existing, event: existing.password_hash ? 'password.changed' : 'password.set',
        origin: { ip: ctx.ip, userAgent: ctx.get('user-agent'), locale: tools.locale(ctx, interaction) },
      });
    }
    // ASVS 7.2.2: a credential change; recovery also signs the person in (by the code, then the new password).
    await auditSecurityEvent(deps, ctx, { action: 'password.changed', outcome: 'success', actorAccountId: accountId, details: { via: 'recover', created: !existing } });
    await auditSecurityEvent(deps, ctx, { action: 'sign_in.code', outcome: 'success', actorAccountId: accountId, details: { flow: flow.kind, channel: flow.identifier.kind } });
    await tools.finish(ctx, tools.loginResult(interaction, accountId, [...amrFor(flow.identifier), 'pwd']));
  });
}

/**
 * The account for an identifier just proved by code: the existing one (now
 * marked verified), or a new one. A pending password only goes to a new account.
 */
async function provenAccount(deps: InteractionDeps, identifier: Identifier, passwordHash: string | null): Promise<string> {
  const existing = await findAccountByIdentifier(deps.db, identifier);
  if (existing) {
    if (existing.status !== 'active') throw new AppError(403, 'account_blocked', 'this account is blocked; contact the service');
    await markIdentifierVerified(deps.db, existing.id, identifier);
    return existing.id;
  }
  return insertVerifiedAccount(deps.db, { identifier, passwordHash });
}
