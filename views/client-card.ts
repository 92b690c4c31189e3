// What a page shows of the client a person signs in to (RFC 7591 §2): its name,
// logo and links to its home page, privacy policy and terms. The values arrive
// already checked (server/oidc/client-metadata-policy.ts shownClientMetadata:
// logo https or a data: PNG/JPEG/GIF/WebP, links http(s) only); links open
// without telling the client where the person came from, and without giving it
// a handle on this page (rel="noopener noreferrer").
import { html, type SafeHtml } from './html.ts';
import type { Strings } from './strings.ts';

export interface ClientCard {
  logoUri?: string;
  clientUri?: string;
  policyUri?: string;
  tosUri?: string;
}

/** The client's logo, before the page's heading; nothing without one. The name is in the heading, so the image is decorative (alt=""). */
export function clientLogo(card: ClientCard | undefined): SafeHtml {
  return card?.logoUri ? html`<img class="client-logo" src="${card.logoUri}" alt="" width="64" height="64">` : html``;
}

/** The client's links, after the page's content; nothing without any. */
export function clientLinks(t: Strings, clientName: string, card: ClientCard | undefined): SafeHtml {
  const links = ([[card?.clientUri, t.clientWebsite], [card?.policyUri, t.clientPolicy], [card?.tosUri, t.clientTerms]] as const)
    .filter((link): link is readonly [string, string] => Boolean(link[0]));
  if (!links.length) return html``;
  return html`<nav class="client-links" aria-label="${t.clientAbout(clientName)}"><ul>${links.map(
    ([href, text]) => html`<li><a href="${href}" rel="noopener noreferrer">${text}</a></li>`,
  )}</ul></nav>`;
}
