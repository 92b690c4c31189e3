import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField } from './fields.ts';
import { strings } from './strings.ts';
import { scopeWords, type ScopeApi } from './scope-words.ts';
import { clientLinks, clientLogo, type ClientCard } from './client-card.ts';

export function consentPage(input: PageFrame & {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  /** The client's logo and links (RFC 7591 §2), when it registered ones the pages may show. */
  client?: ClientCard;
  /** The signed-in person as the page names them (a masked email or phone), and where "Not you?" leads. */
  signedInAs?: { who: string; switchTo: string };
  /** What the client asks for: OpenID Connect scopes (no `api`) and scopes of APIs. */
  scopes: { scope: string; api?: ScopeApi }[];
  resources: string[];
}): string {
  const t = strings(input.locale);
  return layout(
    t.allowTitle(input.clientName),
    html`${clientLogo(input.client)}<h1>${t.allowTitle(input.clientName)}</h1>
${input.signedInAs ? html`<p class="signed-in"><span>${t.signedInAs(input.signedInAs.who)}</span> <a href="${input.signedInAs.switchTo}">${t.notYou}</a></p>` : ''}
<p>${t.asksTo(input.clientName)}</p>
<ul class="scopes">${input.scopes.map((s) => html`<li>${scopeWords(s.scope, input.locale, s.api)}</li>`)}</ul>
${input.resources.length ? html`<p class="muted">${input.resources.join(', ')}</p>` : ''}
<form method="post" action="${input.action}">
  ${csrfField(input.csrf)}
  <button type="submit">${t.allow}</button>
</form>
<form method="post" action="${input.abortAction}">
  ${csrfField(input.csrf)}
  <button type="submit" class="secondary">${t.deny}</button>
</form>
${clientLinks(t, input.clientName, input.client)}`,
    input,
  );
}
