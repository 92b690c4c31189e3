// Pages and messages speak English and Russian: OIDC `ui_locales` first
// (OIDC Core §3.1.2.1), then the language the person picked with the switcher
// on every page (a cookie, ./language-switch.ts), then the browser's
// Accept-Language, then English.
import type { Context } from 'koa';

export const LOCALES = ['en', 'ru'] as const;
export type Locale = (typeof LOCALES)[number];

/** Each language's name in that language, for the switcher (not translated: a Russian reader looks for "Русский"). */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский' };

/** The cookie that remembers the switcher's choice. */
export const LANGUAGE_COOKIE = 'enot_lang';

function parseAcceptLanguage(header: string): string[] {
  return header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: (tag ?? '').trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((entry) => entry.tag && entry.q > 0 && !Number.isNaN(entry.q))
    .sort((a, b) => b.q - a.q)
    .map((entry) => entry.tag);
}

function supported(tag: string): Locale | undefined {
  const primary = tag.split('-')[0];
  return LOCALES.find((l) => l === primary);
}

/** The first supported locale of `uiLocales` (space-separated), if any. */
export function uiLocale(uiLocales: unknown): Locale | undefined {
  if (typeof uiLocales !== 'string') return undefined;
  for (const tag of uiLocales.toLowerCase().split(' ').filter(Boolean)) {
    const found = supported(tag);
    if (found) return found;
  }
  return undefined;
}

/** The locale of `uiLocales`, else the cookie's (`chosen`), else Accept-Language's, else 'en'. */
export function chooseLocale(uiLocales?: string, acceptLanguage?: string, chosen?: string): Locale {
  const fromUi = uiLocale(uiLocales);
  if (fromUi) return fromUi;
  const fromCookie = LOCALES.find((l) => l === chosen);
  if (fromCookie) return fromCookie;
  for (const tag of parseAcceptLanguage(acceptLanguage ?? '')) {
    const found = supported(tag);
    if (found) return found;
  }
  return 'en';
}

/** The language of a page answering `ctx`: `uiLocales` (when the request carries them), the switcher's cookie, Accept-Language. */
export function requestLocale(ctx: Context, uiLocales?: unknown): Locale {
  return chooseLocale(typeof uiLocales === 'string' ? uiLocales : undefined, ctx.get('accept-language'), ctx.cookies.get(LANGUAGE_COOKIE, { signed: false }));
}
