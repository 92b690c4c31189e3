import { html } from './html.ts';
import { layout } from './layout.ts';

export function consentPage(input: {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  scopes: string[];
  resources: string[];
}): string {
  return layout(
    'Allow access',
    html`<h1>Allow ${input.clientName} access?</h1>
<p>${input.clientName} asks to:</p>
<ul class="scopes">${input.scopes.map((s) => html`<li>${s}</li>`)}</ul>
${input.resources.length ? html`<p class="muted">for: ${input.resources.join(', ')}</p>` : ''}
<form method="post" action="${input.action}">
  <input type="hidden" name="csrf" value="${input.csrf}">
  <button type="submit">Allow</button>
</form>
<form method="post" action="${input.abortAction}">
  <input type="hidden" name="csrf" value="${input.csrf}">
  <button type="submit" class="secondary">Deny</button>
</form>`,
  );
}
