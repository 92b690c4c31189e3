// The instance's branding as the pages draw it (BRAND_* and SUPPORT_URL, validated
// in server/config/index.ts): plain data, so the views need nothing of the server.

export interface Brand {
  /** The instance's name: the header, every page's <title>, the account page's own client. */
  name: string;
  /** An https URL, or a data:image/(png|jpeg|gif|webp);base64 URI; never SVG (it can carry script). */
  logoUrl?: string;
  /** Buttons and accents: #rrggbb, with the text colour on it and its hover shade, both at WCAG AA contrast. */
  colors?: { accent: string; onAccent: string; accentHover: string };
  /** https: or mailto: link shown in every page's footer. */
  supportUrl?: string;
}

export const DEFAULT_BRAND: Brand = { name: 'Enot ID' };
