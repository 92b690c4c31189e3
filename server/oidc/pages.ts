// oidc-provider's own pages (errors, logout, device flow), drawn with our layout
// and this response's Content-Security-Policy nonce (server/http/content-security-policy.ts).
import type { Next } from 'koa';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { allowFormTarget, cspNonce } from '../http/content-security-policy.ts';
import { html, trusted, type SafeHtml } from '../../views/html.ts';
import { layout } from '../../views/layout.ts';
import { errorPage } from '../../views/error.ts';
import { logoutConfirmPage, logoutDonePage } from '../../views/logout.ts';

const clientName = (ctx: KoaContextWithOIDC) => ctx.oidc?.client?.clientName ?? ctx.oidc?.client?.clientId;

export const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
  // Remembered so middleware running after oidc-provider can read the code of an HTML error.
  ctx.state.oidcError = out.error;
  ctx.type = 'html';
  ctx.body = errorPage({
    status: ctx.status,
    error: out.error,
    description: out.error_description ?? 'the request could not be completed',
    nonce: cspNonce(ctx),
  });
};

export const logoutSource = async (ctx: KoaContextWithOIDC, form: string) => {
  ctx.type = 'html';
  // "Yes, sign me out" posts to us and is answered with a redirect to the client's
  // post_logout_redirect_uri (registered: oidc-provider checked it before this page).
  const postLogout = ctx.oidc.params?.post_logout_redirect_uri;
  if (typeof postLogout === 'string' && ctx.oidc.client?.postLogoutRedirectUriAllowed(postLogout)) allowFormTarget(ctx, postLogout);
  ctx.body = logoutConfirmPage({ form, clientName: clientName(ctx), nonce: cspNonce(ctx) });
};

export const postLogoutSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  ctx.body = logoutDonePage({ clientName: clientName(ctx), nonce: cspNonce(ctx) });
};

/**
 * Puts our buttons inside oidc-provider's device form (it brings only the inputs), so they
 * get the layout's form styling (full width, stacked, like every other page) instead of
 * sitting outside it, narrow and side by side.
 */
const withButtons = (form: string, buttons: SafeHtml) => form.replace('</form>', `${buttons.value}\n</form>`);

export const userCodeInputSource = async (ctx: KoaContextWithOIDC, form: string, _out?: unknown, err?: { userCode?: string; name?: string }) => {
  // A code that does not exist is a guess: counted by device-flow.ts against the RFC 8628 §5.1 limits.
  if (err?.name === 'NotFoundError') ctx.state.userCodeRejected = true;
  const messages: Record<string, string> = {
    NotFoundError: 'That code is not correct. Check the code on your device and try again.',
    ExpiredError: 'That code has expired. Start again on your device.',
    AlreadyUsedError: 'That code was already used.',
    AbortedError: 'Cancelled. The device was not signed in.',
    NoCodeError: 'Enter the code shown on your device.',
  };
  const message = err ? (messages[err.name ?? ''] ?? 'Something went wrong; start again on your device.') : 'Enter the code shown on your device.';
  // The field is described by the message above it, and marked invalid when the code was refused (as the sign-in
  // pages do), so a screen reader on the field says what is wrong; a cancellation is no fault of the code.
  const invalid = Boolean(err) && err?.name !== 'AbortedError';
  ctx.type = 'html';
  ctx.body = layout(
    'Connect a device',
    html`<h1>Connect a device</h1>
<p id="user-code-message" class="${err ? 'error' : ''}" ${err ? html`role="alert"` : ''}>${message}</p>
<label for="user-code">Code</label>
${trusted(
  withButtons(
    form
      // oidc-provider's inline onfocus handler (select the typed code) would be refused by the
      // Content-Security-Policy, which allows no inline handlers; the field works without it.
      .replace(/\s+onfocus="[^"]*"/, '')
      .replace('name="user_code"', `id="user-code" name="user_code" autocapitalize="characters" spellcheck="false" aria-describedby="user-code-message"${invalid ? ' aria-invalid="true"' : ''}`),
    html`<button type="submit">Continue</button>`,
  ),
)}`,
    { nonce: cspNonce(ctx) },
  );
};

export const userCodeConfirmSource = async (ctx: KoaContextWithOIDC, form: string, _client: unknown, _deviceInfo: unknown, userCode: string) => {
  ctx.type = 'html';
  ctx.body = layout(
    'Confirm the device',
    html`<h1>Sign in ${clientName(ctx)} on your device?</h1>
<p>Code: <strong>${userCode}</strong></p>
<p class="error">Only continue if you started this yourself on your own device and the code matches it.</p>
${trusted(
  withButtons(
    form,
    html`<button type="submit">Continue</button>
<button type="submit" name="abort" value="yes" class="secondary">Cancel</button>`,
  ),
)}`,
    { nonce: cspNonce(ctx) },
  );
};

export const deviceSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  ctx.body = layout('Device connected', html`<h1>Device connected</h1><p>${clientName(ctx)} is signed in. You can close this page.</p>`, { nonce: cspNonce(ctx) });
};

/**
 * The form_post response mode (OAuth 2.0 Form Post Response Mode §2) answers with
 * oidc-provider's page whose form posts the result to the client's redirect_uri;
 * form-action must name that origin. oidc-provider itself adds its inline script's
 * hash to script-src. Only a redirect_uri registered for the client is named.
 */
export async function formPostTarget(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
  await next();
  if (!ctx.response.is('html') || !ctx.oidc?.client) return;
  const params = (ctx.oidc.params ?? (ctx.method === 'POST' ? ctx.oidc.body : ctx.query) ?? {}) as Record<string, unknown>;
  if (typeof params.response_mode !== 'string' || !params.response_mode.startsWith('form_post')) return;
  const registered = ctx.oidc.client.redirectUris ?? [];
  const redirectUri = params.redirect_uri ?? (registered.length === 1 ? registered[0] : undefined);
  if (typeof redirectUri === 'string' && ctx.oidc.client.redirectUriAllowed(redirectUri)) allowFormTarget(ctx, redirectUri);
}
