// /account/password: set or change the password (after a fresh step-up), or remove it
// while a confirmed email or phone remains for sign-in by code.
import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage } from './fields.ts';
import { strings } from './strings.ts';
import { accountNav, noticeOf } from './account.ts';

export function accountPasswordPage(input: PageFrame & {
  csrf: string;
  /** For password managers: the account's login name. */
  username: string;
  hasPassword: boolean;
  /** The password may be removed: a confirmed email or phone remains for codes. */
  canRemove: boolean;
  reauthFresh: boolean;
  notice?: string;
  error?: string;
  passwordError?: string;
}): string {
  const t = strings(input.locale);
  const remove = input.hasPassword && input.canRemove
    ? html`<form method="post" action="/account/password/remove">
  <h2>${t.passwordRemoveHeading}</h2>
  ${csrfField(input.csrf)}
  <p class="hint">${t.passwordRemoveHint}</p>
  <button type="submit" class="secondary">${t.passwordRemoveButton}</button>
</form>`
    : '';
  return layout(
    t.sectionPassword,
    html`<h1>${t.sectionPassword}</h1>
${accountNav(t, 'password')}
${noticeOf(input.notice)}
${errorMessage('form-error', input.error)}
<p>${input.hasPassword ? t.passwordIntroSet : t.passwordIntroNone}</p>
${input.reauthFresh ? '' : html`<p class="hint">${t.reauthOfferAny} <a href="/account/reauth">${t.reauthStart}</a></p>`}
<form method="post" action="/account/password" novalidate>
  ${csrfField(input.csrf)}
  <input type="text" name="username" autocomplete="username" value="${input.username}" hidden>
  <label>${t.newPassword} <span class="hint">${t.newPasswordRules}</span>
    <input type="password" name="password" autocomplete="new-password" minlength="8" required ${input.passwordError ? html`aria-describedby="password-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('password-error', input.passwordError)}
  <button type="submit">${input.hasPassword ? t.passwordChangeButton : t.passwordSetButton}</button>
</form>
${remove}`,
    input,
  );
}
