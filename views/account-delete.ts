// /account/delete: what deleting the account does, and a code to a confirmed email
// or phone to confirm it (the code page follows); then the page that says it is done.
import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage } from './fields.ts';
import { strings } from './strings.ts';
import { accountNav } from './account.ts';

export function accountDeletePage(input: PageFrame & { csrf: string; codeTargets: { kind: 'email' | 'phone'; masked: string }[]; error?: string }): string {
  const t = strings(input.locale);
  const codes = input.codeTargets.map((target) => html`<form method="post" action="/account/delete">
  ${csrfField(input.csrf)}
  <input type="hidden" name="to" value="${target.kind}">
  <button type="submit">${t.deleteSendCodeTo(target.masked)}</button>
</form>`);
  return layout(
    t.sectionDelete,
    html`<h1>${t.sectionDelete}</h1>
${accountNav(t, 'delete')}
<p>${t.deleteIntro}</p>
${errorMessage('form-error', input.error)}
${codes.length ? html`<p>${t.deleteByCode}</p>${codes}` : html`<p>${t.deleteImpossible}</p>`}
<p><a href="/account">${t.backToAccount}</a></p>`,
    input,
  );
}

export function accountDeletedPage(input: PageFrame): string {
  const t = strings(input.locale);
  return layout(
    t.deletedTitle,
    html`<h1>${t.deletedTitle}</h1>
<p role="status">${t.deletedText}</p>
<p><a class="button" href="/">${t.toHome}</a></p>`,
    input,
  );
}
