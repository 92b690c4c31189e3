import { html } from './html.ts';
import { layout } from './layout.ts';

export function loginPage(input: {
  action: string;
  csrf: string;
  clientName: string;
  email?: string;
  error?: string;
}): string {
  return layout(
    'Sign in',
    html`<h1>Sign in to ${input.clientName}</h1>
${input.error ? html`<p class="error" role="alert" id="login-error">${input.error}</p>` : ''}
<form method="post" action="${input.action}" novalidate>
  <input type="hidden" name="csrf" value="${input.csrf}">
  <label>Email
    <input type="email" name="email" autocomplete="email" required value="${input.email ?? ''}" ${input.error ? html`aria-describedby="login-error"` : ''} autofocus>
  </label>
  <label>Password
    <input type="password" name="password" autocomplete="current-password" required>
  </label>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="${input.action.replace(/\/login$/, '/abort')}">
  <input type="hidden" name="csrf" value="${input.csrf}">
  <button type="submit" class="secondary">Cancel</button>
</form>`,
  );
}
