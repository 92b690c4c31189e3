import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage, identifierField, viaTabs, type Via } from './fields.ts';
import { strings } from './strings.ts';

export function registerPage(input: PageFrame & {
  base: string;
  csrf: string;
  clientName: string;
  via: Via;
  identifier?: string;
  identifierError?: string;
  passwordError?: string;
  error?: string;
}): string {
  const t = strings(input.locale);
  return layout(
    t.registerTitle,
    html`<h1>${t.registerFor(input.clientName)}</h1>
${viaTabs(t, `${input.base}/register`, input.via)}
${errorMessage('form-error', input.error)}
<form method="post" action="${input.base}/register" novalidate>
  ${csrfField(input.csrf)}
  ${identifierField(t, input.via, input.identifier ?? '', input.identifierError)}
  <label>${t.newPasswordOptional} <span class="hint">${t.newPasswordHint}</span>
    <input type="password" name="password" autocomplete="new-password" minlength="8" ${input.passwordError ? html`aria-describedby="password-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('password-error', input.passwordError)}
  <button type="submit">${t.register}</button>
</form>
<p>${t.haveAccount} <a href="${input.base}?via=${input.via}&amp;signin">${t.signInTitle}</a></p>`,
    input,
  );
}
