// The start page at /: for a person, the way to their account; for a developer,
// the issuer, its discovery document and keys, and where the documentation is.
import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { strings } from './strings.ts';
import { DEFAULT_BRAND } from './brand.ts';

/** `docsUrl`: DOCS_URL, where the operator publishes the README (its "Quick start" is #quick-start). */
export function homePage(input: PageFrame & { issuer: string; discovery: string; jwks: string; docsUrl?: string }): string {
  const t = strings(input.locale);
  const url = (href: string) => html`<a href="${href}"><code>${href}</code></a>`;
  const title = t.brandHomeTitle((input.brand ?? DEFAULT_BRAND).name);
  return layout(
    title,
    html`<h1>${title}</h1>
<p>${t.homeIntro}</p>
<div class="columns">
<section aria-labelledby="for-you">
  <h2 id="for-you">${t.homeForYou}</h2>
  <p>${t.homeForYouText}</p>
  <p><a class="button" href="/account">${t.homeSignIn}</a></p>
</section>
<section aria-labelledby="for-developers">
  <h2 id="for-developers">${t.homeForDevelopers}</h2>
  <p>${t.homeForDevelopersText}</p>
  <dl class="stacked">
    <dt>${t.homeIssuer}</dt><dd><code>${input.issuer}</code></dd>
    <dt>${t.homeDiscovery}</dt><dd>${url(input.discovery)}</dd>
    <dt>${t.homeJwks}</dt><dd>${url(input.jwks)}</dd>
  </dl>
  <ul class="links">
    ${input.docsUrl
      ? html`<li><a href="${input.docsUrl}#quick-start">${t.homeQuickStartLink}</a></li>
    <li><a href="${input.docsUrl}">${t.homeDocsLink}</a></li>`
      : html`<li>${t.homeQuickStart}</li>
    <li>${t.homeDocs}</li>`}
  </ul>
</section>
</div>`,
    input,
    { wide: true },
  );
}
