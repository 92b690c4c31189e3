// oidc-provider's own pages (errors, logout, device flow), drawn with our layout.
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { html, trusted } from '../../views/html.ts';
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
  });
};

export const logoutSource = async (ctx: KoaContextWithOIDC, form: string) => {
  ctx.type = 'html';
  ctx.body = logoutConfirmPage(form, clientName(ctx));
};

export const postLogoutSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  ctx.body = logoutDonePage(clientName(ctx));
};

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
  ctx.type = 'html';
  ctx.body = layout(
    'Connect a device',
    html`<h1>Connect a device</h1>
<p class="${err ? 'error' : ''}" ${err ? html`role="alert"` : ''}>${message}</p>
<label for="user-code">Code</label>
${trusted(form.replace('name="user_code"', 'id="user-code" name="user_code" autocapitalize="characters" spellcheck="false"'))}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
};

export const userCodeConfirmSource = async (ctx: KoaContextWithOIDC, form: string, _client: unknown, _deviceInfo: unknown, userCode: string) => {
  ctx.type = 'html';
  ctx.body = layout(
    'Confirm the device',
    html`<h1>Sign in ${clientName(ctx)} on your device?</h1>
<p>Code: <strong>${userCode}</strong></p>
<p class="error">Only continue if you started this yourself on your own device and the code matches it.</p>
${trusted(form)}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">Cancel</button>`,
  );
};

export const deviceSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  ctx.body = layout('Device connected', html`<h1>Device connected</h1><p>${clientName(ctx)} is signed in. You can close this page.</p>`);
};
