// What every HTML page we draw needs besides its content (views/layout.ts PageFrame):
// its language, this response's CSP nonce, and where the language switcher returns.
import type { Context } from 'koa';
import { cspNonce } from './content-security-policy.ts';
import { requestLocale } from '../i18n/locale.ts';
import { switcherReturn } from '../i18n/language-switch.ts';
import type { PageFrame } from '../../views/layout.ts';

/**
 * The frame of the page answering `ctx`: in the language of `uiLocales` (when the
 * request has them), else the switcher's cookie, else Accept-Language. The switcher
 * returns to this page when it was a GET, else to `fallback`.
 */
export function pageFrame(ctx: Context, fallback?: string, uiLocales?: unknown): PageFrame {
  return { locale: requestLocale(ctx, uiLocales), nonce: cspNonce(ctx), here: switcherReturn(ctx, fallback) };
}
