import { html, type SafeHtml } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage, identifierField } from './fields.ts';
import { strings, type Strings } from './strings.ts';
import { LOCALE_NAMES, LOCALES, type Locale } from '../server/i18n/locale.ts';

export type AccountSection = 'profile' | 'password' | 'sessions' | 'delete';

/** The links between the /account pages; the current one marked. */
export function accountNav(t: Strings, current: AccountSection): SafeHtml {
  const link = (section: AccountSection, href: string, label: string) =>
    html`<a href="${href}" ${section === current ? html`aria-current="page"` : ''}>${label}</a>`;
  // A list, not tabs: four labels do not fit side by side on a phone.
  return html`<nav aria-label="${t.accountSections}"><ul class="links">${[
    link('profile', '/account', t.sectionProfile), link('password', '/account/password', t.sectionPassword),
    link('sessions', '/account/sessions', t.sectionSessions), link('delete', '/account/delete', t.sectionDelete),
  ].map((a) => html`<li>${a}</li>`)}</ul></nav>`;
}

/** A time on the /account pages: date and minute in the page's language, in UTC (the server does not know the person's zone). */
export function shownTime(locale: Locale, at: Date): string {
  return at.toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: 'UTC', timeZoneName: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function noticeOf(notice?: string): SafeHtml | string {
  return notice ? html`<p class="notice" role="status">${notice}</p>` : '';
}

export function accountPage(input: PageFrame & {
  csrf: string;
  /** A step-up in this session still counts: changes go straight to the code. */
  reauthFresh?: boolean;
  email: string | null;
  emailVerified: boolean;
  phone: string | null;
  phoneVerified: boolean;
  /** The language chosen for messages; null: the page's. */
  messageLocale?: Locale | null;
  notice?: string;
  error?: { via?: 'email' | 'phone'; message: string; typed: string };
}): string {
  const t = strings(input.locale);
  const state = (verified: boolean) => html` <span class="hint">(${verified ? t.verified : t.notConfirmed})</span>`;
  // A remove button beside each identifier while the other one is confirmed: it stays a way to sign in.
  const remove = (kind: 'email' | 'phone', otherConfirmed: boolean) => otherConfirmed
    ? html`<form method="post" action="/account/identifiers/remove">${csrfField(input.csrf)}<input type="hidden" name="kind" value="${kind}"><button type="submit" class="secondary">${kind === 'email' ? t.removeEmail : t.removePhone}</button></form>`
    : '';
  const row = (kind: 'email' | 'phone', label: string, value: string | null, verified: boolean, otherConfirmed: boolean) =>
    html`<dt>${label}</dt><dd>${value ?? t.notSet}${value ? state(verified) : ''}${value ? remove(kind, otherConfirmed) : ''}</dd>`;
  const form = (via: 'email' | 'phone', heading: string) => html`<form method="post" action="/account/identifiers" novalidate>
  <h2>${heading}</h2>
  ${csrfField(input.csrf)}
  ${identifierField(t, via, input.error?.via === via ? input.error.typed : '', input.error?.via === via ? input.error.message : undefined)}
  <button type="submit" class="secondary">${t.sendCode}</button>
</form>`;
  const chosen = input.messageLocale ?? '';
  // One button per other choice: a form of buttons needs no script and no styling of its own.
  const choices: Array<[string, string, Locale | undefined]> = [['', t.messageLanguagePage, undefined], ...LOCALES.map((l): [string, string, Locale] => [l, LOCALE_NAMES[l], l])];
  const current = choices.find(([value]) => value === chosen) ?? choices[0]!;
  const choice = ([value, label, lang]: [string, string, Locale | undefined]) =>
    html`<button type="submit" name="locale" value="${value}" class="secondary" ${lang ? html`lang="${lang}"` : ''}>${label}</button>`;
  return layout(
    t.accountTitle,
    html`<h1>${t.accountTitle}</h1>
${accountNav(t, 'profile')}
${noticeOf(input.notice)}
${errorMessage('form-error', input.error && !input.error.via ? input.error.message : undefined)}
<dl>${row('email', t.emailLabel, input.email, input.emailVerified, input.phone !== null && input.phoneVerified)}${row('phone', t.phoneLabel, input.phone, input.phoneVerified, input.email !== null && input.emailVerified)}</dl>
${input.reauthFresh ? '' : html`<p class="hint">${t.reauthOfferAny} <a href="/account/reauth">${t.reauthStart}</a></p>`}
${form('email', input.email ? t.changeEmail : t.addEmail)}
${form('phone', input.phone ? t.changePhone : t.addPhone)}
<form method="post" action="/account/language">
  <h2>${t.messageLanguage}</h2>
  ${csrfField(input.csrf)}
  <p class="hint">${t.messageLanguageHint}</p>
  <p>${t.messageLanguageNow(current[1])}</p>
  ${choices.filter((c) => c !== current).map(choice)}
</form>
<p><a href="/session/end">${t.signOut}</a></p>`,
    input,
  );
}
