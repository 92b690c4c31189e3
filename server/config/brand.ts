// Instance branding (issue 12 §4): the checks of BRAND_LOGO_URL and SUPPORT_URL, and
// the text colour for BRAND_COLOR. Text on the primary colour keeps WCAG 2.2 AA
// contrast (SC 1.4.3: at least 4.5:1 for normal text), whatever colour is configured.

/** An image a page may show inline: PNG, JPEG, GIF or WebP as base64. Never SVG, which can carry script. */
export const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/;

/** Why `value` is not a logo the pages may show, or undefined when it is one. */
export function logoProblem(value: string): string | undefined {
  if (/^data:/i.test(value)) {
    if (/^data:image\/svg/i.test(value)) return 'an SVG image, which can carry scripts';
    return DATA_IMAGE.test(value) ? undefined : 'a data: URI that is not a base64 PNG, JPEG, GIF or WebP image';
  }
  const url = URL.parse(value);
  if (!url || url.protocol !== 'https:' || url.username || url.password) return 'not an https URL or a data:image/png, jpeg, gif or webp base64 URI';
  return undefined;
}

/** Why `value` is not a support link, or undefined. */
export function supportProblem(value: string): string | undefined {
  const url = URL.parse(value);
  if (url?.protocol === 'mailto:' && /^[^@\s]+@[^@\s]+$/.test(url.pathname)) return undefined;
  if (url?.protocol === 'https:' && !url.username && !url.password) return undefined;
  return 'not an https URL or a mailto: address';
}

/** WCAG 2.2 relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG 2.2 contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** #rgb or #rrggbb as lower-case #rrggbb. */
export function normalHex(value: string): string {
  const hex = value.toLowerCase();
  return hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
}

const AA = 4.5;
const WHITE = '#ffffff';
const NEAR_BLACK = '#1b1f2a'; // the pages' own text colour
const BLACK = '#000000';

/** Mixes #rrggbb towards `target` by `share` (0 to 1). */
function mix(hex: string, target: string, share: number): string {
  const part = (s: string, i: number) => parseInt(s.slice(i, i + 2), 16);
  return `#${[1, 3, 5].map((i) => Math.round(part(hex, i) + (part(target, i) - part(hex, i)) * share).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The primary colour with the text drawn on it: white when that reads at AA, else
 * the pages' near-black, else black (one of white and black always reaches 4.58:1).
 * The hover shade moves away from the text colour, so its contrast only grows.
 */
export function brandColors(accent: string): { accent: string; onAccent: string; accentHover: string } {
  const onAccent = [WHITE, NEAR_BLACK].find((text) => contrast(accent, text) >= AA)
    ?? (contrast(accent, WHITE) >= contrast(accent, BLACK) ? WHITE : BLACK);
  const accentHover = mix(accent, onAccent === WHITE ? BLACK : WHITE, 0.15);
  return { accent, onAccent, accentHover };
}
