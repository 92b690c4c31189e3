// /account/sessions: the person's own view of what the admin API lists
// (admin/accounts/sessions.ts): their browser sessions and the apps that hold a
// grant, read through runtime.accountModels from wherever they are stored
// (PostgreSQL, or Redis when REDIS_URL is set). Signing a session out ends it and
// revokes the grants made through it, so the refresh and access tokens its apps
// got stop at once (RFC 7009 §2.1 revokes a grant's tokens together); removing an
// app's access revokes every grant it holds for the account and forgets the
// consent given to it (consents/remembered.ts), so it must ask again. Neither
// needs a step-up: they only take access away.
import type Router from '@koa/router';
import type { Context } from 'koa';
import Bowser from 'bowser';
import { field } from '../http/read-form.ts';
import { InvalidRequest } from '../errors/index.ts';
import { forgetConsent } from '../consents/remembered.ts';
import { findResource } from '../rbac/resources.ts';
import type { Locale } from '../i18n/locale.ts';
import { renderHtml } from '../interactions/interaction.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { auditSecurityEvent } from '../audit/security-event.ts';
import type { AdapterPayload } from '../../adapters/types.ts';
import { accountSessionsPage, type AppView, type SessionView } from '../../views/account-sessions.ts';
import { scopeWords } from '../../views/scope-words.ts';
import { appName, strings } from '../../views/strings.ts';
import { ACCOUNT_CLIENT_ID } from './first-party-client.ts';
import { sessionDevicesOf } from './session-devices.ts';
import type { AccountTools, SignedIn } from './session.ts';

type Stored = { id: string; payload: AdapterPayload };

const seconds = (value: unknown) => (typeof value === 'number' ? new Date(value * 1000) : undefined);

/** Browser (with its major version) and OS from a User-Agent header, by bowser. */
function device(userAgent: string): { browser?: string; system?: string } {
  // bowser throws on an empty User-Agent (a client may send none): an unknown browser.
  if (!userAgent.trim()) return {};
  const { browser, os } = Bowser.getParser(userAgent).getResult();
  const major = browser.version?.split('.')[0];
  return { browser: browser.name ? [browser.name, major].filter(Boolean).join(' ') : undefined, system: os.name || undefined };
}

/** The grant ids a session made for its apps (oidc-provider keeps them per client in `authorizations`). */
function grantsOf(session: Stored): string[] {
  const authorizations = (session.payload.authorizations ?? {}) as Record<string, { grantId?: string }>;
  return Object.values(authorizations).flatMap((a) => (typeof a?.grantId === 'string' ? [a.grantId] : []));
}

export function sessionsRoutes(router: Router, deps: InteractionDeps, tools: AccountTools): void {
  async function sessionsOf(me: SignedIn): Promise<SessionView[]> {
    const sessions = await deps.accountModels(me.account.id, 'Session');
    const devices = await sessionDevicesOf(deps.db, me.account.id, sessions.map((s) => String(s.payload.uid ?? '')));
    const views = sessions.map(({ id, payload }): SessionView => {
      const known = devices.get(String(payload.uid ?? ''));
      return {
        id,
        current: id === me.sessionId,
        ...(known ? device(known.user_agent) : {}),
        ip: known?.ip,
        signedInAt: seconds(payload.loginTs) ?? known?.signed_in_at,
        lastUsedAt: known?.last_used_at,
      };
    });
    // This one first, then the most recently used.
    return views.sort((a, b) => Number(b.current) - Number(a.current) || (b.lastUsedAt?.getTime() ?? 0) - (a.lastUsedAt?.getTime() ?? 0));
  }

  /** Each app with a grant, once: what its grants allow, in words, and since when. */
  async function appsOf(me: SignedIn, locale: Locale): Promise<AppView[]> {
    const t = strings(locale);
    const own = new Set([deps.config.appApiResource, deps.config.adminApiResource]);
    const byClient = new Map<string, { scopes: Map<string, string>; since?: Date }>();
    for (const { payload } of await deps.accountModels(me.account.id, 'Grant')) {
      const clientId = typeof payload.clientId === 'string' ? payload.clientId : undefined;
      // The account page's own client is Enot ID itself: its sessions are listed above.
      if (!clientId || clientId === ACCOUNT_CLIENT_ID) continue;
      const app = byClient.get(clientId) ?? { scopes: new Map<string, string>() };
      byClient.set(clientId, app);
      const since = seconds(payload.iat);
      if (since && (!app.since || since < app.since)) app.since = since;
      const openid = String((payload.openid as { scope?: string } | undefined)?.scope ?? '').split(' ').filter(Boolean);
      for (const scope of openid) app.scopes.set(`${scope} `, scopeWords(scope, locale));
      for (const [indicator, scopes] of Object.entries((payload.resources ?? {}) as Record<string, unknown>)) {
        const api = { name: (await findResource(deps.db, indicator))?.name ?? '', own: own.has(indicator) };
        for (const scope of String(scopes).split(' ').filter(Boolean)) app.scopes.set(`${scope} ${indicator}`, scopeWords(scope, locale, api));
      }
    }
    return Promise.all([...byClient].map(async ([clientId, app]) => {
      const client = await deps.adapters('Client').find(clientId);
      return { clientId, name: appName(t, { clientId, clientName: typeof client?.client_name === 'string' ? client.client_name : undefined }), scopes: [...new Set(app.scopes.values())], allowedAt: app.since };
    }));
  }

  async function page(ctx: Context, me: SignedIn, status: number, notice?: string) {
    const locale = tools.locale(ctx);
    renderHtml(ctx, status, accountSessionsPage({
      ...tools.frame(ctx, '/account/sessions'),
      csrf: tools.csrf.tokenFor(me.binding),
      sessions: await sessionsOf(me),
      apps: await appsOf(me, locale),
      notice,
    }));
  }

  /** Ends one session of the account and revokes the grants made through it. */
  async function endSession(ctx: Context, me: SignedIn, session: Stored): Promise<void> {
    await Promise.all(grantsOf(session).map((grantId) => deps.provider.accessTokens.revokeGrant(grantId)));
    await deps.adapters('Session').destroy(session.id);
    await auditSecurityEvent(deps, ctx, { action: 'session.ended', outcome: 'success', actorAccountId: me.account.id, details: { session: session.id } });
  }

  router.get('/sessions', async (ctx) => {
    const me = await tools.signedIn(ctx);
    if (!me) return ctx.redirect('/account/sign-in');
    const t = strings(tools.locale(ctx));
    const notice = ctx.query.ended !== undefined ? t.sessionEnded
      : ctx.query.others !== undefined ? t.otherSessionsEnded
      : ctx.query.revoked !== undefined ? t.appRevoked
      : undefined;
    await page(ctx, me, 200, notice);
  });

  router.post('/sessions/end', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me, form } = signed;
    const id = field(form, 'session', 200);
    // Only a session of this account, and not this one (that is "Sign out").
    const session = (await deps.accountModels(me.account.id, 'Session')).find((s) => s.id === id && s.id !== me.sessionId);
    if (!session) throw new InvalidRequest('no such other session of this account');
    await endSession(ctx, me, session);
    tools.seeOther(ctx, '/account/sessions?ended');
  });

  router.post('/sessions/end-others', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me } = signed;
    for (const session of await deps.accountModels(me.account.id, 'Session')) {
      if (session.id !== me.sessionId) await endSession(ctx, me, session);
    }
    tools.seeOther(ctx, '/account/sessions?others');
  });

  router.post('/apps/revoke', async (ctx) => {
    const signed = await tools.signedInForm(ctx);
    if (!signed) return;
    const { me, form } = signed;
    const clientId = field(form, 'client', 200);
    const grants = (await deps.accountModels(me.account.id, 'Grant')).filter((g) => g.payload.clientId === clientId && clientId !== ACCOUNT_CLIENT_ID);
    if (!grants.length) throw new InvalidRequest('no app with this id has access to this account');
    await Promise.all(grants.map((grant) => deps.provider.accessTokens.revokeGrant(grant.id)));
    // Or the next sign-in to that app, in any browser, would make the grant again without asking (oidc/existing-grant.ts).
    await forgetConsent(deps.db, me.account.id, clientId);
    await auditSecurityEvent(deps, ctx, { action: 'app.revoked', outcome: 'success', actorAccountId: me.account.id, details: { client_id: clientId, grants: grants.length } });
    tools.seeOther(ctx, '/account/sessions?revoked');
  });
}
