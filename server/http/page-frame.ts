// What every HTML page we draw needs besides its content (views/layout.ts PageFrame):
// its language, this response's CSP nonce, where the language switcher returns, and
// the instance's branding (BRAND_* in server/config/index.ts).
import type { Context, Middleware } from 'koa';
import { allowImage, cspNonce } from './content-security-policy.ts';
import { requestLocale } from '../i18n/locale.ts';
import { switcherReturn } from '../i18n/language-switch.ts';
import type { PageFrame } from '../../views/layout.ts';
import { DEFAULT_BRAND, type Brand } from '../../views/brand.ts';

const BRAND = Symbol('brand');

/** Gives every page drawn for a request the instance's branding (app.ts). */
export function brandPages(brand: Brand): Middleware {
  return async (ctx, next) => {
    (ctx.state as { [BRAND]?: Brand })[BRAND] = brand;
    await next();
  };
}

/**
 * The frame of the page answering `ctx`: in the language of `uiLocales` (when the
 * request has them), else the switcher's cookie, else Accept-Language. The switcher
 * returns to this page when it was a GET, else to `fallback`. A configured logo
 * becomes an allowed image source of this response.
 */
export function pageFrame(ctx: Context, fallback?: string, uiLocales?: unknown): PageFrame {
  const brand = (ctx.state as { [BRAND]?: Brand })[BRAND] ?? DEFAULT_BRAND;
  allowImage(ctx, brand.logoUrl);
  return { locale: requestLocale(ctx, uiLocales), nonce: cspNonce(ctx), here: switcherReturn(ctx, fallback), brand };
}
