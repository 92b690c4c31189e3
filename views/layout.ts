import { html, trusted, type SafeHtml } from './html.ts';
import { STYLES } from './style.ts';
import { strings } from './strings.ts';
import { DEFAULT_BRAND, type Brand } from './brand.ts';
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
  /** The instance's name, logo, colour and support link; Enot ID's own without it. */
  brand?: Brand;
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

/** The primary colour's custom properties, over both schemes' own (validated #rrggbb only: server/config/brand.ts). */
function brandStyles(brand: Brand): string {
  const c = brand.colors;
  if (!c || ![c.accent, c.onAccent, c.accentHover].every((v) => /^#[0-9a-f]{6}$/.test(v))) return '';
  return `:root:root { --accent: ${c.accent}; --accent-hover: ${c.accentHover}; --on-accent: ${c.onAccent}; }`;
}

function footer(frame: PageFrame, brand: Brand): SafeHtml {
  if (!brand.supportUrl) return html``;
  return html`<footer class="bottom"><a href="${brand.supportUrl}">${strings(frame.locale).brandSupport}</a></footer>`;
}

/** The page around `body`; `wide` for a page with columns (the start page). */
export function layout(title: string, body: SafeHtml, frame: PageFrame, options: { wide?: boolean } = {}): string {
  const wide = options.wide ? ' wide' : '';
  const brand = frame.brand ?? DEFAULT_BRAND;
  // The name is beside the logo, so the image is decorative (alt="").
  const logo = brand.logoUrl ? html`<img src="${brand.logoUrl}" alt="" height="28">` : '';
  return html`<!doctype html>
<html lang="${frame.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta name="color-scheme" content="light dark">
<title>${title} · ${brand.name}</title>
<style nonce="${frame.nonce}">${trusted(STYLES + brandStyles(brand))}</style>
</head>
<body>
<header class="top${wide}"><span class="brand${brand.logoUrl ? ' with-logo' : ''}">${logo}${brand.name}</span>${switcher(frame)}</header>
<main${options.wide ? html` class="wide"` : ''}>
${body}
</main>
${footer(frame, brand)}
</body>
</html>`.value;
}
