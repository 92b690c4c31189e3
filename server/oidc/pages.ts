// oidc-provider's own pages (errors, logout, device flow), drawn with our layout, in the
// person's language (ui_locales when the request has them, the switcher's cookie,
// Accept-Language) and with this response's Content-Security-Policy nonce
// (server/http/content-security-policy.ts).
import type { Next } from 'koa';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { allowFormTarget } from '../http/content-security-policy.ts';
import { pageFrame } from '../http/page-frame.ts';
import type { SafeHtml } from '../../views/html.ts';
import type { PageFrame } from '../../views/layout.ts';
import { appName, strings } from '../../views/strings.ts';
import { errorPage } from '../../views/error.ts';
import { logoutConfirmPage, logoutDonePage } from '../../views/logout.ts';
import { deviceCodePage, deviceConfirmPage, deviceDonePage, type DeviceCodeProblem } from '../../views/device.ts';

/** The language, nonce and switcher of an oidc-provider page (ui_locales when its request has them); a POST's switcher returns to `fallback`. */
const frame = (ctx: KoaContextWithOIDC, fallback?: string): PageFrame => pageFrame(ctx, fallback, ctx.oidc?.params?.ui_locales);

const clientName = (ctx: KoaContextWithOIDC, frame: PageFrame) => (ctx.oidc?.client ? appName(strings(frame.locale), ctx.oidc.client, frame.brand?.name) : undefined);

export const renderError: NonNullable<Configuration['renderError']> = async (ctx, out) => {
  // Remembered so middleware running after oidc-provider can read the code of an HTML error.
  ctx.state.oidcError = out.error;
  ctx.type = 'html';
  ctx.body = errorPage({
    ...frame(ctx, '/'),
    status: ctx.status,
    error: out.error,
    description: out.error_description ?? 'the request could not be completed',
  });
};

export const logoutSource = async (ctx: KoaContextWithOIDC, form: string) => {
  ctx.type = 'html';
  // "Yes, sign me out" posts to us and is answered with a redirect to the client's
  // post_logout_redirect_uri (registered: oidc-provider checked it before this page).
  const postLogout = ctx.oidc.params?.post_logout_redirect_uri;
  if (typeof postLogout === 'string' && ctx.oidc.client?.postLogoutRedirectUriAllowed(postLogout)) allowFormTarget(ctx, postLogout);
  // The switcher comes back to /session/end, which shows this form again (with its new xsrf token).
  const page = frame(ctx, '/session/end');
  ctx.body = logoutConfirmPage({ ...page, form, clientName: clientName(ctx, page) });
};

export const postLogoutSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  const page = frame(ctx);
  // "No, stay signed in" without a client also lands here: say so rather than "signed out".
  const session = await ctx.oidc.provider.Session.get(ctx);
  ctx.body = logoutDonePage({ ...page, clientName: clientName(ctx, page), stillSignedIn: Boolean(session?.accountId) });
};

/** Puts our buttons inside oidc-provider's device form (it brings only the inputs), so they get the layout's form styling. */
const withButtons = (form: string, buttons: SafeHtml) => form.replace('</form>', `${buttons.value}\n</form>`);

const DEVICE_PROBLEMS = new Set<string>(['NotFoundError', 'ExpiredError', 'AlreadyUsedError', 'AbortedError', 'NoCodeError']);

export const userCodeInputSource = async (ctx: KoaContextWithOIDC, form: string, _out?: unknown, err?: { userCode?: string; name?: string }) => {
  // A code that does not exist is a guess: counted by device-flow.ts against the RFC 8628 §5.1 limits.
  if (err?.name === 'NotFoundError') ctx.state.userCodeRejected = true;
  const problem: DeviceCodeProblem | undefined = err ? (DEVICE_PROBLEMS.has(err.name ?? '') ? (err.name as DeviceCodeProblem) : 'other') : undefined;
  ctx.type = 'html';
  ctx.body = deviceCodePage({
    ...frame(ctx, '/device'),
    problem,
    form: (buttons, invalid) =>
      withButtons(
        form
          // oidc-provider's inline onfocus handler (select the typed code) would be refused by the
          // Content-Security-Policy, which allows no inline handlers; the field works without it.
          .replace(/\s+onfocus="[^"]*"/, '')
          .replace('name="user_code"', `id="user-code" name="user_code" autocapitalize="characters" spellcheck="false" aria-describedby="user-code-message"${invalid ? ' aria-invalid="true"' : ''}`),
        buttons,
      ),
  });
};

export const userCodeConfirmSource = async (ctx: KoaContextWithOIDC, form: string, _client: unknown, _deviceInfo: unknown, userCode: string) => {
  ctx.type = 'html';
  // A switch of language starts again at the code entry: the confirmation is the answer to a POST.
  const page = frame(ctx, '/device');
  ctx.body = deviceConfirmPage({ ...page, clientName: clientName(ctx, page) ?? '', userCode, form: (buttons) => withButtons(form, buttons) });
};

export const deviceSuccessSource = async (ctx: KoaContextWithOIDC) => {
  ctx.type = 'html';
  const page = frame(ctx, '/device');
  ctx.body = deviceDonePage({ ...page, clientName: clientName(ctx, page) ?? '' });
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
