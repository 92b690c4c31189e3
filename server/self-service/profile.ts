// /account profile changes besides adding and changing an identifier (./routes.ts):
// removing the email or the phone, allowed only after a fresh step-up and only while
// the other one stays confirmed (it is the way left to sign in: codes go to it, and a
// password needs it as the login name); and the language of messages to the person.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { field } from '../http/read-form.ts';
import { clearIdentifier, setAccountLocale, type AccountRow } from '../accounts/queries.ts';
import { InvalidRequest } from '../errors/index.ts';
import { LOCALES, type Locale } from '../i18n/locale.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import { strings } from '../../views/strings.ts';
import { freshReauth } from './reauth.ts';
import { notifyAccountEvent } from '../notifications/account-changes.ts';
import type { Identifier } from '../accounts/identifiers.ts';
import type { AccountTools } from './session.ts';

/** Whether `kind` may be removed: the other identifier is there and confirmed. */
export function mayRemoveIdentifier(account: AccountRow, kind: 'email' | 'phone'): boolean {
  return kind === 'email' ? account.phone !== null && account.phone_verified_at !== null : account.email !== null && account.email_verified_at !== null;
}

export function profileRoutes(
  router: Router,
  deps: InteractionDeps,
  tools: AccountTools,
  show: (ctx: Context, status: number, extra?: { notice?: string; error?: { message: string; typed: string } }) => Promise<void>,
): void {
  router.post('/identifiers/remove', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me, form } = signed;
    const kind = field(form, 'kind');
    if (kind !== 'email' && kind !== 'phone') throw new InvalidRequest('kind must be email or phone');
    if (!(await freshReauth(deps, me))) return tools.toReauth(ctx);
    const t = strings(tools.locale(ctx));
    if ((kind === 'email' ? me.account.email : me.account.phone) === null) return tools.seeOther(ctx, '/account');
    if (!mayRemoveIdentifier(me.account, kind)) {
      await auditSecurityEvent(deps, ctx, { action: 'identifier.removed', outcome: 'refused', actorAccountId: me.account.id, details: { kind, reason: 'last_way_to_sign_in' } });
      return show(ctx, 409, { error: { message: t.removeLastRefused, typed: '' } });
    }
    await clearIdentifier(deps.db, me.account.id, kind);
    // ASVS 7.2.2: which kind, never the value.
    await auditSecurityEvent(deps, ctx, { action: 'identifier.removed', outcome: 'success', actorAccountId: me.account.id, details: { kind } });
    // Told on every confirmed identifier it had, the removed one too (ASVS V2.2.3).
    const removed = kind === 'email' ? me.account.email : me.account.phone;
    await notifyAccountEvent(deps, {
      account: me.account, event: 'identifier.removed', ip: ctx.ip, userAgent: ctx.get('user-agent'), locale: tools.locale(ctx),
      ...(removed ? { removed: { kind, value: removed } as Identifier } : {}),
    });
    tools.seeOther(ctx, '/account?removed');
  });

  router.post('/language', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me, form } = signed;
    const value = field(form, 'locale', 8);
    const locale = value === '' ? null : LOCALES.find((l) => l === value);
    if (locale === undefined) throw new InvalidRequest('locale must be one of the offered languages');
    await setAccountLocale(deps.db, me.account.id, locale as Locale | null);
    await auditSecurityEvent(deps, ctx, { action: 'account.language', outcome: 'success', actorAccountId: me.account.id, details: { locale } });
    tools.seeOther(ctx, '/account?language');
  });
}
