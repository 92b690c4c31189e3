// /unsubscribe/:token, the link in every mailing. GET shows a page with one button
// (a GET never unsubscribes: mail scanners follow links); POST unsubscribes, from
// that button or as RFC 8058's one-click POST (`List-Unsubscribe=One-Click`) sent by
// the mail client. English or Russian from the browser's language.
import Router from '@koa/router';
import type { Knex } from 'knex';
import { html } from '../../views/html.ts';
import { requestLocale, type Locale } from '../i18n/locale.ts';
import { verifyUnsubscribeToken } from './unsubscribe-token.ts';

const words: Record<Locale, { title: string; ask: string; button: string; done: string; invalid: string }> = {
  en: {
    title: 'Unsubscribe', ask: 'Stop receiving mailings from this service? Security notices about your account still reach you.',
    button: 'Unsubscribe', done: 'You are unsubscribed: no more mailings will be sent to you.', invalid: 'This unsubscribe link is not valid.',
  },
  ru: {
    title: 'Отписка', ask: 'Больше не получать рассылки этой службы? Уведомления о безопасности аккаунта будут приходить по-прежнему.',
    button: 'Отписаться', done: 'Вы отписаны: рассылки больше не будут приходить.', invalid: 'Эта ссылка для отписки недействительна.',
  },
};

function page(locale: Locale, title: string, body: ReturnType<typeof html>): string {
  return html`<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`.value;
}

export function unsubscribeRouter(deps: { db: Knex; keys: string[] }): Router {
  const router = new Router();
  router.get('/unsubscribe/:token', (ctx) => {
    const locale = requestLocale(ctx);
    const t = words[locale];
    const valid = verifyUnsubscribeToken(deps.keys, ctx.params.token!) !== undefined;
    ctx.status = valid ? 200 : 404;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page(locale, t.title, valid
      ? html`<p>${t.ask}</p><form method="post" action="/unsubscribe/${ctx.params.token!}"><button type="submit">${t.button}</button></form>`
      : html`<p>${t.invalid}</p>`);
  });
  router.post('/unsubscribe/:token', async (ctx) => {
    const locale = requestLocale(ctx);
    const t = words[locale];
    const accountId = verifyUnsubscribeToken(deps.keys, ctx.params.token!);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    if (!accountId) {
      ctx.status = 404;
      ctx.body = page(locale, t.title, html`<p>${t.invalid}</p>`);
      return;
    }
    // The account may be gone; then there is nobody to mail anyway.
    await deps.db.raw('insert into mailing_unsubscribes (account_id) select id from accounts where id = ? on conflict do nothing', [accountId]);
    ctx.status = 200;
    ctx.body = page(locale, t.title, html`<p>${t.done}</p>`);
  });
  return router;
}
