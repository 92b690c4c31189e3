// Form pieces shared by the sign-in pages.
import { html, type SafeHtml } from './html.ts';
import type { Strings } from './strings.ts';

export type Via = 'email' | 'phone';

export function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

export function errorMessage(id: string, message?: string): SafeHtml {
  return message ? html`<p class="error" role="alert" id="${id}">${message}</p>` : html``;
}

/** Tabs that switch between an email field and a phone field (plain links: no JavaScript needed). */
export function viaTabs(t: Strings, path: string, via: Via): SafeHtml {
  const tab = (value: Via, label: string) =>
    html`<a href="${path}?via=${value}" ${via === value ? html`aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="tabs" aria-label="${t.email} / ${t.phone}">${tab('email', t.email)} ${tab('phone', t.phone)}</nav>`;
}

/** The identifier input: type, autocomplete and keyboard follow the chosen tab. */
export function identifierField(t: Strings, via: Via, value: string, error?: string): SafeHtml {
  const described = error ? html`aria-describedby="identifier-error" aria-invalid="true"` : '';
  if (via === 'phone') {
    return html`<label>${t.phoneLabel} <span class="hint">${t.phoneHint}</span>
    <input type="tel" name="identifier" autocomplete="tel" inputmode="tel" required value="${value}" ${described}>
  </label>${errorMessage('identifier-error', error)}<input type="hidden" name="via" value="phone">`;
  }
  return html`<label>${t.emailLabel}
    <input type="email" name="identifier" autocomplete="email" required value="${value}" ${described}>
  </label>${errorMessage('identifier-error', error)}<input type="hidden" name="via" value="email">`;
}
