// The device flow's pages (RFC 8628 §3.3): enter the code, confirm, done. oidc-provider
// brings its forms (hidden inputs and its xsrf token); server/oidc/pages.ts adapts them.
import { html, trusted, type SafeHtml } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { strings, type Strings } from './strings.ts';

/** Why oidc-provider showed the code entry again, by the name of its error. */
export type DeviceCodeProblem = 'NotFoundError' | 'ExpiredError' | 'AlreadyUsedError' | 'AbortedError' | 'NoCodeError' | 'other';

function problemText(t: Strings, problem: DeviceCodeProblem | undefined): string {
  if (problem === 'NotFoundError') return t.deviceWrongCode;
  if (problem === 'ExpiredError') return t.deviceCodeExpired;
  if (problem === 'AlreadyUsedError') return t.deviceCodeUsed;
  if (problem === 'AbortedError') return t.deviceAborted;
  if (problem === 'other') return t.deviceFailed;
  return t.deviceEnterCode;
}

/**
 * `form(buttons, invalid)`: oidc-provider's form with our buttons put inside it (so they get
 * the layout's form styling) and its code field marked invalid when the code was refused.
 */
export function deviceCodePage(input: PageFrame & { problem?: DeviceCodeProblem; form: (buttons: SafeHtml, invalid: boolean) => string }): string {
  const t = strings(input.locale);
  // The field is described by the message above it, and marked invalid when the code was refused (as the sign-in
  // pages do), so a screen reader on the field says what is wrong; a cancellation is no fault of the code.
  const invalid = input.problem !== undefined && input.problem !== 'AbortedError';
  return layout(
    t.deviceTitle,
    html`<h1>${t.deviceTitle}</h1>
<p id="user-code-message" class="${input.problem ? 'error' : ''}" ${input.problem ? html`role="alert"` : ''}>${problemText(t, input.problem)}</p>
<label for="user-code">${t.codeLabel}</label>
${trusted(input.form(html`<button type="submit">${t.confirm}</button>`, invalid))}`,
    input,
  );
}

export function deviceConfirmPage(input: PageFrame & { clientName: string; userCode: string; form: (buttons: SafeHtml) => string }): string {
  const t = strings(input.locale);
  return layout(
    t.deviceConfirmTitle,
    html`<h1>${t.deviceConfirm(input.clientName)}</h1>
<p>${t.codeLabel}: <strong><code>${input.userCode}</code></strong></p>
<p class="error">${t.deviceWarning}</p>
${trusted(
  input.form(html`<button type="submit">${t.confirm}</button>
<button type="submit" name="abort" value="yes" class="secondary">${t.cancel}</button>`),
)}`,
    input,
  );
}

export function deviceDonePage(input: PageFrame & { clientName: string }): string {
  const t = strings(input.locale);
  return layout(t.deviceDoneTitle, html`<h1>${t.deviceDoneTitle}</h1><p>${t.deviceDone(input.clientName)}</p>`, input);
}
