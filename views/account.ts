import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage, identifierField } from './fields.ts';
import { strings } from './strings.ts';

export function accountPage(input: PageFrame & {
  csrf: string;
  /** A step-up in this session still counts: changes go straight to the code. */
  reauthFresh?: boolean;
  email: string | null;
  emailVerified: boolean;
  phone: string | null;
  phoneVerified: boolean;
  notice?: string;
  error?: { via: 'email' | 'phone'; message: string; typed: string };
}): string {
  const t = strings(input.locale);
  const row = (label: string, value: string | null, verified: boolean) =>
    html`<dt>${label}</dt><dd>${value ?? t.notSet}${value && verified ? html` <span class="hint">(${t.verified})</span>` : ''}</dd>`;
  const form = (via: 'email' | 'phone', heading: string) => html`<form method="post" action="/account/identifiers" novalidate>
  <h2>${heading}</h2>
  ${csrfField(input.csrf)}
  ${identifierField(t, via, input.error?.via === via ? input.error.typed : '', input.error?.via === via ? input.error.message : undefined)}
  <button type="submit" class="secondary">${t.sendCode}</button>
</form>`;
  return layout(
    t.accountTitle,
    html`<h1>${t.accountTitle}</h1>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
${errorMessage('form-error', input.error && !input.error.via ? input.error.message : undefined)}
<dl>${row(t.emailLabel, input.email, input.emailVerified)}${row(t.phoneLabel, input.phone, input.phoneVerified)}</dl>
${input.reauthFresh ? '' : html`<p class="hint">${t.reauthOffer} <a href="/account/reauth">${t.reauthStart}</a></p>`}
${form('email', input.email ? t.changeEmail : t.addEmail)}
${form('phone', input.phone ? t.changePhone : t.addPhone)}
<p><a href="/session/end">${t.signOut}</a></p>`,
    input,
  );
}
