import { html, trusted, type SafeHtml } from './html.ts';
import { STYLES } from './style.ts';
import { strings } from './strings.ts';
import { LOCALE_NAMES, LOCALES, type Locale } from '../server/i18n/locale.ts';

/** What every page needs besides its content. */
export interface PageFrame {
  locale: Locale;
  /**
   * This response's Content-Security-Policy nonce (the server makes a fresh one per
   * response): the style sheet, and any script in the page, carry it, so markup
   * injected into a page neither runs nor styles it.
   */
  nonce: string;
  /**
   * The path the language switcher returns to (server/i18n/language-switch.ts);
   * no switcher without it (a page whose language the app fixed with ui_locales).
   */
  here?: string;
}

function switcher(frame: PageFrame): SafeHtml {
  if (!frame.here) return html``;
  const t = strings(frame.locale);
  const others = LOCALES.filter((l) => l !== frame.locale);
  // "/" may stay as it is in a query (RFC 3986 §3.4): the link stays readable.
  const back = encodeURIComponent(frame.here).replaceAll('%2F', '/');
  return html`<nav class="lang" aria-label="${t.language}">${others.map(
    (l) => html`<a href="/language?set=${l}&amp;return=${back}" lang="${l}" hreflang="${l}">${LOCALE_NAMES[l]}</a>`,
  )}</nav>`;
}

/** The page around `body`; `wide` for a page with columns (the start page). */
export function layout(title: string, body: SafeHtml, frame: PageFrame, options: { wide?: boolean } = {}): string {
  const wide = options.wide ? ' wide' : '';
  return html`<!doctype html>
<html lang="${frame.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="color-scheme" content="light dark">
<title>${title} · Enot ID</title>
<style nonce="${frame.nonce}">${trusted(STYLES)}</style>
</head>
<body>
<header class="top${wide}"><span class="brand">Enot ID</span>${switcher(frame)}</header>
<main${options.wide ? html` class="wide"` : ''}>
${body}
</main>
</body>
</html>`.value;
}
