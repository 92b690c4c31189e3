// The desktop side of QR sign-in, inside its oidc-provider interaction: a new
// QR (for renewal), the state for polling, and completion once the phone approved.
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { AppError, NotFound } from '../../errors/index.ts';
import { isAccountActive } from '../../accounts/queries.ts';
import { ACCOUNT_CLIENT_ID } from '../../self-service/first-party-client.ts';
import { qrSvg } from '../../qr/svg.ts';
import type { QrBlock } from '../../../views/qr.ts';
import type { InteractionDeps } from '../deps.ts';
import { auditSecurityEvent } from '../../audit/security-event.ts';
import type { Interaction, InteractionTools } from '../interaction.ts';

// RFC 8176 `mca`: the person authenticated over a second channel (their phone).
const QR_AMR = ['mca'];

/** Creates a QR login for this desktop interaction and draws it. */
export async function newQrBlock(ctx: Context, deps: InteractionDeps, tools: InteractionTools, interaction: Interaction): Promise<QrBlock> {
  const { token, login } = await deps.qr.create({
    interactionUid: interaction.uid,
    clientId: String(interaction.params.client_id),
    ip: ctx.ip,
    userAgent: ctx.get('user-agent'),
  });
  const svg = await qrSvg(`${deps.config.issuer}/qr/${token}`);
  return { id: login.id, svg, base: tools.base(interaction), csrf: tools.csrf.tokenFor(interaction.uid) };
}

/**
 * Where the sign-in page shows a QR: the login (or create) prompt of any client
 * but the account page's own. The routes below answer only there, so a browser
 * signing in to /account (for instance to approve a QR) cannot be made to show one.
 */
export function offersQr(interaction: Interaction): boolean {
  if (interaction.params.client_id === ACCOUNT_CLIENT_ID) return false;
  return interaction.prompt.name === 'login' || interaction.prompt.name === 'create';
}

export function qrRoutes(router: Router, deps: InteractionDeps, tools: InteractionTools): void {
  // A fresh QR when the shown one expired or was denied (the page's script asks).
  router.post('/:uid/qr', async (ctx) => {
    const interaction = await tools.load(ctx);
    tools.csrf.check(interaction.uid, ctx.get('x-csrf-token'));
    if (!offersQr(interaction)) throw new NotFound('this sign-in step offers no QR');
    const block = await newQrBlock(ctx, deps, tools, interaction);
    ctx.body = { id: block.id, svg: block.svg };
  });

  router.get('/:uid/qr/:id', async (ctx) => {
    const interaction = await tools.load(ctx);
    if (!offersQr(interaction)) throw new NotFound('this sign-in step offers no QR');
    const login = await deps.qr.forDesktop(ctx.params.id!, interaction.uid);
    ctx.body = { state: login.state, expires_at: login.expiresAt.toISOString() };
  });

  router.get('/:uid/qr/:id/complete', async (ctx) => {
    const interaction = await tools.load(ctx);
    if (!offersQr(interaction)) throw new NotFound('this sign-in step offers no QR');
    const login = await deps.qr.forDesktop(ctx.params.id!, interaction.uid);
    if (login.state !== 'approved') {
      ctx.redirect(tools.base(interaction));
      return;
    }
    const completed = await deps.qr.complete(login.id, interaction.uid);
    // Approved on the phone, then blocked (or deleted) before the desktop got here: the QR is used up, nobody signs in.
    if (!(await isAccountActive(deps.db, completed.accountId!))) {
      deps.metrics.signIns.inc({ method: 'qr', outcome: 'failure' });
      await auditSecurityEvent(deps, ctx, { action: 'sign_in.qr', outcome: 'failure', targetAccountId: completed.accountId, details: { qr_login: login.id, reason: 'account_not_active' } });
      throw new AppError(403, 'account_blocked', 'this account is blocked; contact the service');
    }
    deps.metrics.signIns.inc({ method: 'qr', outcome: 'success' });
    // The desktop's side: the account approved on the phone signs in here (ASVS 7.2.1).
    await auditSecurityEvent(deps, ctx, { action: 'sign_in.qr', outcome: 'success', actorAccountId: completed.accountId, details: { qr_login: login.id, client_id: String(interaction.params.client_id) } });
    await tools.finish(ctx, tools.loginResult(interaction, completed.accountId!, QR_AMR));
  });
}
