import { html } from './html.ts';
import { layout } from './layout.ts';
import { csrfField, errorMessage } from './fields.ts';
import { strings } from './strings.ts';
import type { Locale } from '../server/i18n/locale.ts';

export function codePage(input: {
  locale: Locale;
  /** This response's Content-Security-Policy nonce. */
  nonce: string;
  base: string;
  flowPath: string;
  csrf: string;
  sentTo: string;
  resendInSeconds: number;
  error?: string;
  notice?: string;
}): string {
  const t = strings(input.locale);
  return layout(
    t.codeTitle,
    html`<h1>${t.codeTitle}</h1>
<p>${t.codeSentTo(input.sentTo)}</p>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
<form method="post" action="${input.flowPath}/code" novalidate>
  ${csrfField(input.csrf)}
  <label>${t.codeLabel}
    <input type="text" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autofocus ${input.error ? html`aria-describedby="code-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('code-error', input.error)}
  <button type="submit">${t.confirm}</button>
</form>
<form method="post" action="${input.flowPath}/resend">
  ${csrfField(input.csrf)}
  ${input.resendInSeconds > 0 ? html`<p class="hint">${t.resendIn(input.resendInSeconds)}</p>` : ''}
  <button type="submit" class="secondary">${t.resend}</button>
</form>
<p><a href="${input.base}">${t.startOver}</a></p>`,
    { lang: input.locale, nonce: input.nonce },
  );
}
