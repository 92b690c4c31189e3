// Helpers every interaction route uses: load the interaction bound to this
// browser, name its client, pick its language, and hand the result back.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors as oidcErrors, type InteractionResults } from 'oidc-provider';
import { InteractionExpired } from '../errors/index.ts';
import { requestLocale, uiLocale, type Locale } from '../i18n/locale.ts';
import { allowFormTarget, allowImage } from '../http/content-security-policy.ts';
import { pageFrame } from '../http/page-frame.ts';
import { appName, strings } from '../../views/strings.ts';
import type { PageFrame } from '../../views/layout.ts';
import { csrfTokens } from './csrf.ts';
import { hasKnownDevices, isKnown, remember } from '../devices/known-devices.ts';
import { keepDeviceId, readDeviceId } from '../devices/device-cookie.ts';
import { findAccountById } from '../accounts/queries.ts';
import { queueSecurityNotice } from '../notifications/security-notices.ts';
import type { InteractionDeps } from './deps.ts';
import type { Via } from '../../views/fields.ts';
import type { ClientCard } from '../../views/client-card.ts';
import { shownClientMetadata } from '../oidc/client-metadata-policy.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export function interactionTools(deps: InteractionDeps) {
  const provider = () => deps.provider.current;
  const csrf = csrfTokens(deps.csrfSecret);
  /** The app's ui_locales, else the switcher's cookie, else Accept-Language (server/i18n/locale.ts). */
  const locale = (ctx: Context, interaction: Interaction): Locale => requestLocale(ctx, interaction.params.ui_locales);

  /** The client's name, and the logo and links (RFC 7591 §2) the pages may show of it. */
  async function clientShown(ctx: Context, interaction: Interaction): Promise<{ clientName: string; client: ClientCard }> {
    const client = await provider().Client.find(String(interaction.params.client_id));
    const shown = shownClientMetadata(client?.metadata(), deps.config.issuer);
    // The page may load this logo, and no other (server/http/content-security-policy.ts).
    allowImage(ctx, shown.logoUri);
    return { clientName: appName(strings(locale(ctx, interaction)), client, deps.config.brand.name), client: shown };
  }

  /**
   * A sign-in from a browser the account has not used before is told to the person
   * (issue 13 §2), but not its very first sign-in (registration), nor one from a known browser.
   */
  async function noticeOfNewDevice(ctx: Context, accountId: string): Promise<void> {
    const deviceId = readDeviceId(ctx);
    if (deviceId && (await isKnown(deps.db, accountId, deviceId))) return;
    if (!(await hasKnownDevices(deps.db, accountId))) return;
    const account = await findAccountById(deps.db, accountId);
    if (!account) return;
    await queueSecurityNotice(deps, {
      account, event: 'sign_in.new_device', origin: { ip: ctx.ip, userAgent: ctx.get('user-agent'), locale: requestLocale(ctx) },
    });
  }

  return {
    provider,
    csrf,

    /** The interaction of this browser (its cookie) matching the URL, or InteractionExpired. */
    async load(ctx: Context): Promise<Interaction> {
      try {
        const found = await provider().interactionDetails(ctx.req, ctx.res);
        if (found.uid !== ctx.params.uid) throw new InteractionExpired();
        ctx.set('Cache-Control', 'no-store');
        // Its pages' forms end, through redirects, at the client's redirect_uri, which
        // oidc-provider checked at the authorization request (server/http/content-security-policy.ts).
        allowFormTarget(ctx, found.params.redirect_uri);
        return found;
      } catch (err) {
        if (err instanceof oidcErrors.SessionNotFound) throw new InteractionExpired();
        throw err;
      }
    },

    /** The client's name as the pages show it (views/strings.ts appName), in the page's language. */
    async clientName(ctx: Context, interaction: Interaction): Promise<string> {
      return (await clientShown(ctx, interaction)).clientName;
    },

    clientShown,

    /**
     * The sign-in page's way back when it is drawn while consent is pending: the person
     * chose "Not you?" there (login/routes.ts), so Back returns to the consent page rather
     * than cancelling the request (which would also forget the first person's consent).
     */
    backTo(interaction: Interaction): string | undefined {
      return interaction.prompt.name === 'consent' ? `/interaction/${interaction.uid}` : undefined;
    },

    locale,

    /**
     * Language, nonce and switcher of an interaction page. A form's answer switches back to
     * `fallback` (the sign-in page unless given). No switcher when the app chose the
     * language with ui_locales: that choice comes first, so the switcher would do nothing.
     */
    frame(ctx: Context, interaction: Interaction, fallback?: string): PageFrame {
      const frame = pageFrame(ctx, fallback ?? `/interaction/${interaction.uid}`, interaction.params.ui_locales);
      return uiLocale(interaction.params.ui_locales) ? { ...frame, here: undefined } : frame;
    },

    base(interaction: Interaction): string {
      return `/interaction/${interaction.uid}`;
    },

    /** The result that signs `accountId` in; it also settles a pending prompt=create. */
    loginResult(interaction: Interaction, accountId: string, amr: string[]): InteractionResults {
      return { login: { accountId, amr }, ...(interaction.prompt.name === 'create' ? { create: {} } : {}) };
    },

    /**
     * Hands the result to oidc-provider and sends the browser back to it (303 after a POST).
     * A sign-in makes this browser a known device of the account (devices/known-devices.ts).
     */
    async finish(ctx: Context, result: InteractionResults, merge = false): Promise<void> {
      const accountId = (result.login as { accountId?: string } | undefined)?.accountId;
      if (accountId) {
        await noticeOfNewDevice(ctx, accountId);
        await remember(deps.db, accountId, keepDeviceId(ctx), ctx.get('user-agent'));
      }
      const redirectTo = await provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
      ctx.status = 303;
      ctx.redirect(redirectTo);
    },
  };
}

export type InteractionTools = ReturnType<typeof interactionTools>;

export function viaOf(value: unknown): Via {
  return value === 'phone' ? 'phone' : 'email';
}

export function renderHtml(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}
