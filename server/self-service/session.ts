// What every /account route needs: the signed-in account, the session that binds
// its flows and forms, the CSRF tokens and the page language.
import type { Context } from 'koa';
import { findAccountById, type AccountRow } from '../accounts/queries.ts';
import { requestLocale, type Locale } from '../i18n/locale.ts';
import { pageFrame } from '../http/page-frame.ts';
import type { PageFrame } from '../../views/layout.ts';
import { csrfTokens } from '../interactions/csrf.ts';
import type { InteractionDeps } from '../interactions/deps.ts';

export interface SignedIn {
  account: AccountRow;
  /** `session:<uid>`: flows and form tokens of this browser's session only. */
  binding: string;
}

export function accountTools(deps: InteractionDeps) {
  return {
    csrf: csrfTokens(deps.csrfSecret),
    locale: (ctx: Context): Locale => requestLocale(ctx),
    /** Language, nonce and switcher of an /account page; a form's answer switches back to `fallback`. */
    frame: (ctx: Context, fallback = '/account'): PageFrame => pageFrame(ctx, fallback),
    /** The signed-in, active account and its session binding, or undefined. */
    async signedIn(ctx: Context): Promise<SignedIn | undefined> {
      const session = await deps.provider.current.Session.get(ctx);
      if (!session?.accountId) return undefined;
      const account = await findAccountById(deps.db, session.accountId);
      if (!account || account.status !== 'active') return undefined;
      ctx.set('Cache-Control', 'no-store');
      return { account, binding: `session:${session.uid}` };
    },
  };
}

export type AccountTools = ReturnType<typeof accountTools>;
