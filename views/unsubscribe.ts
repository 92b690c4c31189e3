// The page behind a mailing's unsubscribe link (server/mailings/unsubscribe-routes.ts):
// the question with one button (a GET never unsubscribes), the answer, or a link
// that is not valid; each with the way to the start page.
import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { strings } from './strings.ts';

export type UnsubscribeState = { state: 'ask'; action: string } | { state: 'done' } | { state: 'invalid' };

export function unsubscribePage(input: PageFrame & UnsubscribeState): string {
  const t = strings(input.locale);
  const body =
    input.state === 'ask'
      ? html`<p>${t.unsubscribeAsk}</p>
<form method="post" action="${input.action}"><button type="submit">${t.unsubscribeButton}</button></form>`
      : html`<p role="status">${input.state === 'done' ? t.unsubscribeDone : t.unsubscribeInvalid}</p>`;
  return layout(
    t.unsubscribeTitle,
    html`<h1>${t.unsubscribeTitle}</h1>
${body}
<p><a href="/">${t.toHome}</a></p>`,
    input,
  );
}
