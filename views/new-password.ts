import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage } from './fields.ts';
import { strings } from './strings.ts';

export function newPasswordPage(input: PageFrame & { flowPath: string; csrf: string; username: string; error?: string }): string {
  const t = strings(input.locale);
  return layout(
    t.setPasswordTitle,
    html`<h1>${t.setPasswordTitle}</h1>
<form method="post" action="${input.flowPath}/password" novalidate>
  ${csrfField(input.csrf)}
  <input type="text" name="username" autocomplete="username" value="${input.username}" hidden>
  <label>${t.newPassword} <span class="hint">${t.newPasswordRules}</span>
    <input type="password" name="password" autocomplete="new-password" minlength="8" required autofocus ${input.error ? html`aria-describedby="password-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('password-error', input.error)}
  <button type="submit">${t.setPassword}</button>
</form>`,
    input,
  );
}
