import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage, identifierField, viaTabs, type Via } from './fields.ts';
import { strings } from './strings.ts';

export function recoverPage(input: PageFrame & {
  base: string;
  csrf: string;
  via: Via;
  identifier?: string;
  identifierError?: string;
  error?: string;
}): string {
  const t = strings(input.locale);
  return layout(
    t.recoverTitle,
    html`<h1>${t.recoverTitle}</h1>
<p>${t.recoverIntro}</p>
${viaTabs(t, `${input.base}/recover`, input.via)}
${errorMessage('form-error', input.error)}
<form method="post" action="${input.base}/recover" novalidate>
  ${csrfField(input.csrf)}
  ${identifierField(t, input.via, input.identifier ?? '', input.identifierError)}
  <button type="submit">${t.sendCode}</button>
</form>
<p><a href="${input.base}?via=${input.via}">${t.back}</a></p>`,
    input,
  );
}
