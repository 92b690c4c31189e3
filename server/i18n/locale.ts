// Pages and messages speak English and Russian: OIDC `ui_locales` first
// (OIDC Core §3.1.2.1), then the browser's Accept-Language, then English.
export const LOCALES = ['en', 'ru'] as const;
export type Locale = (typeof LOCALES)[number];

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

/** The first supported locale of `uiLocales` (space-separated), else of Accept-Language, else 'en'. */
export function chooseLocale(uiLocales?: string, acceptLanguage?: string): Locale {
  for (const tag of (uiLocales ?? '').toLowerCase().split(' ').filter(Boolean)) {
    const found = supported(tag);
    if (found) return found;
  }
  for (const tag of parseAcceptLanguage(acceptLanguage ?? '')) {
    const found = supported(tag);
    if (found) return found;
  }
  return 'en';
}
