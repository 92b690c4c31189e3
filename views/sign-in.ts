import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage, identifierField, viaTabs, type Via } from './fields.ts';
import { strings } from './strings.ts';
import { qrBlock, type QrBlock } from './qr.ts';
import { clientLinks, clientLogo, type ClientCard } from './client-card.ts';
import { DEFAULT_BRAND } from './brand.ts';

export function signInPage(input: PageFrame & {
  base: string;
  csrf: string;
  clientName: string;
  /** The client's logo and links (RFC 7591 §2), when it registered ones the pages may show. */
  client?: ClientCard;
  via: Via;
  identifier?: string;
  error?: string;
  passwordError?: string;
  /** When this sign-in switches account from a consent page ("Not you?"): Cancel goes back there instead of cancelling. */
  backTo?: string;
  /** The cross-device QR, when the page offers it. */
  qr?: QrBlock;
}): string {
  const t = strings(input.locale);
  return layout(
    t.signInTitle,
    html`${clientLogo(input.client)}<h1>${t.signInTo(input.clientName)}</h1>
${viaTabs(t, input.base, input.via)}
${errorMessage('form-error', input.error)}
<form method="post" action="${input.base}/code" novalidate>
  ${csrfField(input.csrf)}
  ${identifierField(t, input.via, input.identifier ?? '')}
  <button type="submit">${t.continueWithCode}</button>
  <hr>
  <p>${t.orPassword}</p>
  <label>${t.password}
    <input type="password" name="password" autocomplete="current-password" ${input.passwordError ? html`aria-describedby="password-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('password-error', input.passwordError)}
  <button type="submit" formaction="${input.base}/login" class="secondary">${t.signInWithPassword}</button>
</form>
<p><a href="${input.base}/recover?via=${input.via}">${t.forgotPassword}</a></p>
<p>${t.noAccount} <a href="${input.base}/register?via=${input.via}">${t.createAccount}</a></p>
${input.qr ? qrBlock(input.locale, input.qr, input.nonce, (input.brand ?? DEFAULT_BRAND).name) : ''}
${input.backTo ? html`<p><a class="button secondary" href="${input.backTo}">${t.back}</a></p>` : html`<form method="post" action="${input.base}/abort">
  ${csrfField(input.csrf)}
  <button type="submit" class="secondary">${t.cancel}</button>
</form>`}
${clientLinks(t, input.clientName, input.client)}`,
    input,
  );
}
