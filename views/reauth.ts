// The step-up page of /account: prove it is you again, by password or by a code
// to a confirmed email or phone, before an identifier is added or changed.
import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage } from './fields.ts';
import { strings } from './strings.ts';

export function reauthPage(input: PageFrame & {
  csrf: string;
  /** The account's login name, for password managers; only when it has a password. */
  username?: string;
  hasPassword: boolean;
  /** Confirmed identifiers a code can go to, masked. */
  codeTargets: { kind: 'email' | 'phone'; masked: string }[];
  notice?: string;
  error?: string;
  passwordError?: string;
}): string {
  const t = strings(input.locale);
  const password = input.hasPassword
    ? html`<form method="post" action="/account/reauth/password" novalidate>
  ${csrfField(input.csrf)}
  <input type="text" name="username" autocomplete="username" value="${input.username ?? ''}" hidden>
  <label>${t.password}
    <input type="password" name="password" autocomplete="current-password" required autofocus ${input.passwordError ? html`aria-describedby="password-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('password-error', input.passwordError)}
  <button type="submit">${t.reauthWithPassword}</button>
</form>`
    : '';
  const codes = input.codeTargets.map((target) => html`<form method="post" action="/account/reauth/code">
  ${csrfField(input.csrf)}
  <input type="hidden" name="to" value="${target.kind}">
  <button type="submit" ${input.hasPassword ? html`class="secondary"` : ''}>${t.reauthSendCodeTo(target.masked)}</button>
</form>`);
  return layout(
    t.reauthTitle,
    html`<h1>${t.reauthTitle}</h1>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
<p>${t.reauthIntro}</p>
${errorMessage('form-error', input.error)}
${password}
${input.hasPassword && codes.length ? html`<p class="muted">${t.reauthByCode}</p>` : ''}
${codes}
${!input.hasPassword && !codes.length ? html`<p>${t.reauthImpossible}</p><p><a href="/session/end">${t.signOut}</a></p>` : ''}
<p><a href="/account">${t.back}</a></p>`,
    input,
  );
}
