// The phone side of QR sign-in: /qr/:token opens on a phone that scanned the
// desktop's QR. The phone must be signed in (it signs in first if not), then
// sees what is asking and approves or denies.
import Router from '@koa/router';
import type { Context } from 'koa';
import { readForm, field } from '../http/read-form.ts';
import { csrfTokens } from '../interactions/csrf.ts';
import { renderHtml } from '../interactions/interaction.ts';
import { pageFrame } from '../http/page-frame.ts';
import type { PageFrame } from '../../views/layout.ts';
import { findAccountById } from '../accounts/queries.ts';
import { describeUserAgent } from './user-agent.ts';
import { QrLoginUnavailable, type QrLogin } from './qr-login.ts';
import { qrApprovePage, qrMessagePage } from '../../views/qr.ts';
import { appName, strings } from '../../views/strings.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import { AFTER_SIGN_IN_COOKIE } from '../self-service/routes.ts';

export function qrPhoneRouter(deps: InteractionDeps) {
  const router = new Router({ prefix: '/qr' });
  const csrf = csrfTokens(deps.csrfSecret);

  async function phoneSession(ctx: Context) {
    const session = await deps.provider.current.Session.get(ctx);
    if (!session?.accountId) return undefined;
    const account = await findAccountById(deps.db, session.accountId);
    if (!account || account.status !== 'active') return undefined;
    return { accountId: account.id, binding: `session:${session.uid}` };
  }

  /** A /qr page's language, nonce and switcher (a decision's answer switches back to the start page: the QR was used). */
  const frame = (ctx: Context): PageFrame => pageFrame(ctx, '/');

  async function approvalPage(ctx: Context, token: string, login: QrLogin, binding: string) {
    const client = await deps.provider.current.Client.find(login.clientId);
    const { browser, system } = describeUserAgent(login.desktopUserAgent);
    const page = frame(ctx);
    renderHtml(ctx, 200, qrApprovePage({
      ...page,
      action: `/qr/${token}`,
      csrf: csrf.tokenFor(`${binding}:${token}`),
      clientName: appName(strings(page.locale), client, page.brand?.name),
      device: `${browser}, ${system}`,
      ip: login.desktopIp,
      requestedAt: login.createdAt,
    }));
  }

  function unavailable(ctx: Context) {
    const page = frame(ctx);
    renderHtml(ctx, 400, qrMessagePage(page, strings(page.locale).qrUnavailable));
  }

  router.get('/:token', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    // Not the shape of a QR token (the one /account/callback returns to): nothing
    // to approve, and not something to put in a cookie (non-ASCII throws there).
    if (!/^[A-Za-z0-9_-]{22}$/.test(ctx.params.token!)) return unavailable(ctx);
    const phone = await phoneSession(ctx);
    if (!phone) {
      // Sign in on the phone first, then come back here.
      ctx.cookies.set(AFTER_SIGN_IN_COOKIE, `/qr/${ctx.params.token}`, { httpOnly: true, sameSite: 'lax', path: '/account', maxAge: 10 * 60 * 1000, overwrite: true });
      ctx.redirect('/account/sign-in');
      return;
    }
    try {
      await approvalPage(ctx, ctx.params.token!, await deps.qr.scan(ctx.params.token!, phone.binding), phone.binding);
    } catch (err) {
      if (err instanceof QrLoginUnavailable) return unavailable(ctx);
      throw err;
    }
  });

  for (const decision of ['approve', 'deny'] as const) {
    router.post(`/:token/${decision}`, async (ctx) => {
      const phone = await phoneSession(ctx);
      if (!phone) return unavailable(ctx);
      const form = await readForm(ctx);
      csrf.check(`${phone.binding}:${ctx.params.token}`, field(form, 'csrf'));
      const page = frame(ctx);
      const action = decision === 'approve' ? 'qr.approved' : 'qr.denied';
      let login: QrLogin;
      try {
        login = decision === 'approve' ? await deps.qr.approve(ctx.params.token!, phone.binding, phone.accountId) : await deps.qr.deny(ctx.params.token!, phone.binding);
      } catch (err) {
        if (err instanceof QrLoginUnavailable) {
          await auditSecurityEvent(deps, ctx, { action, outcome: 'failure', actorAccountId: phone.accountId, details: { via: 'phone', reason: 'unavailable' } });
          return unavailable(ctx);
        }
        throw err;
      }
      // ASVS 7.2.1: approving signs a desktop in as this account; which login, for whom, and from where the desktop asked.
      await auditSecurityEvent(deps, ctx, {
        action, outcome: 'success', actorAccountId: phone.accountId,
        details: { via: 'phone', qr_login: login.id, client_id: login.clientId, desktop_ip: login.desktopIp },
      });
      const t = strings(page.locale);
      renderHtml(ctx, 200, qrMessagePage(page, decision === 'approve' ? t.qrApprovedPhone : t.qrDeniedPhone));
    });
  }

  return router;
}
