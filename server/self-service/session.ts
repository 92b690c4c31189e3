// What every /account route needs: the signed-in account, the session that binds
// its flows and forms, the CSRF tokens and the page language.
import type { Context } from 'koa';
import { findAccountById, type AccountRow } from '../accounts/queries.ts';
import { requestLocale, type Locale } from '../i18n/locale.ts';
import { pageFrame } from '../http/page-frame.ts';
import type { PageFrame } from '../../views/layout.ts';
import { csrfTokens } from '../interactions/csrf.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { readForm, field } from '../http/read-form.ts';
import { touchSessionDevice } from './session-devices.ts';

export interface SignedIn {
  account: AccountRow;
  /** `session:<uid>`: flows and form tokens of this browser's session only. */
  binding: string;
  /** oidc-provider's id of this browser's session (it changes at each sign-in; the uid does not). */
  sessionId: string;
  sessionUid: string;
}

export function accountTools(deps: InteractionDeps) {
  const csrf = csrfTokens(deps.csrfSecret);
  return {
    csrf,
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
      await touchSessionDevice(deps.db, session.uid);
      return { account, binding: `session:${session.uid}`, sessionId: session.jti, sessionUid: session.uid };
    },
    /**
     * For a POST: the signed-in account and its form, the form's CSRF token checked
     * (a bad one is a 400 page); undefined after sending a browser that is not
     * signed in to sign in.
     */
    async signedInForm(ctx: Context): Promise<{ me: SignedIn; form: URLSearchParams } | undefined> {
      const me = await this.signedIn(ctx);
      if (!me) {
        ctx.redirect('/account/sign-in');
        return undefined;
      }
      const form = await readForm(ctx);
      csrf.check(me.binding, field(form, 'csrf'));
      return { me, form };
    },
    /** Without a fresh step-up in this session, the person is sent to prove themselves first (ASVS V3.7.1). */
    toReauth(ctx: Context): void {
      ctx.status = 303;
      ctx.redirect('/account/reauth?needed');
    },
    /** After a change made by a POST: back to `path` with a GET (303, Post/Redirect/Get). */
    seeOther(ctx: Context, path: string): void {
      ctx.status = 303;
      ctx.redirect(path);
    },
  };
}

export type AccountTools = ReturnType<typeof accountTools>;
