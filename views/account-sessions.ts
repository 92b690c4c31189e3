// /account/sessions: every signed-in browser session (browser and OS, IP, when it
// signed in and was last used; this one marked) and every app with access (its
// name, what it may do in words, since when), each with its button.
import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField } from './fields.ts';
import { strings } from './strings.ts';
import { accountNav, noticeOf, shownTime } from './account.ts';

export interface SessionView {
  id: string;
  current: boolean;
  /** "Chrome 130", "Firefox"; undefined when the browser is not known. */
  browser?: string;
  system?: string;
  ip?: string;
  signedInAt?: Date;
  lastUsedAt?: Date;
}

export interface AppView {
  clientId: string;
  name: string;
  /** What the app may do, in the page's language (views/scope-words.ts). */
  scopes: string[];
  allowedAt?: Date;
}

export function accountSessionsPage(input: PageFrame & { csrf: string; sessions: SessionView[]; apps: AppView[]; notice?: string }): string {
  const t = strings(input.locale);
  const time = (at: Date) => shownTime(input.locale, at);
  const session = (s: SessionView) => html`<li>
  <strong>${[s.browser, s.system].filter(Boolean).join(', ') || t.unknownBrowser}</strong>${s.current ? html` <span class="hint">(${t.thisSession})</span>` : ''}
  ${s.signedInAt ? html`<br><span class="hint">${t.sessionSignedIn(time(s.signedInAt))}</span>` : ''}
  ${s.lastUsedAt ? html`<br><span class="hint">${t.sessionLastUsed(time(s.lastUsedAt))}</span>` : ''}
  ${s.ip ? html`<br><span class="hint">${t.sessionIp(s.ip)}</span>` : ''}
  ${s.current ? '' : html`<form method="post" action="/account/sessions/end">${csrfField(input.csrf)}<input type="hidden" name="session" value="${s.id}"><button type="submit" class="secondary">${t.sessionSignOut}</button></form>`}
</li>`;
  const app = (a: AppView) => html`<li>
  <strong>${a.name}</strong>
  <ul class="scopes">${a.scopes.map((words) => html`<li>${words}</li>`)}</ul>
  ${a.allowedAt ? html`<p class="hint">${t.appAllowedAt(time(a.allowedAt))}</p>` : ''}
  <form method="post" action="/account/apps/revoke">${csrfField(input.csrf)}<input type="hidden" name="client" value="${a.clientId}"><button type="submit" class="secondary">${t.appRevoke}</button></form>
</li>`;
  const others = input.sessions.some((s) => !s.current);
  return layout(
    t.sectionSessions,
    html`<h1>${t.sectionSessions}</h1>
${accountNav(t, 'sessions')}
${noticeOf(input.notice)}
<h2>${t.sessionsHeading}</h2>
<ul class="links" id="sessions">${input.sessions.map(session)}</ul>
${others ? html`<form method="post" action="/account/sessions/end-others">${csrfField(input.csrf)}<button type="submit" class="secondary">${t.sessionsSignOutOthers}</button></form>` : ''}
<h2>${t.appsHeading}</h2>
${input.apps.length ? html`<ul class="links" id="apps">${input.apps.map(app)}</ul>` : html`<p>${t.appsNone}</p>`}`,
    input,
  );
}
