// /unsubscribe/:token, the link in every mailing. GET shows a page with one button
// (a GET never unsubscribes: mail scanners follow links); POST unsubscribes, from
// that button or as RFC 8058's one-click POST (`List-Unsubscribe=One-Click`) sent by
// the mail client. A page like every other (branding, the language switcher, the
// catalogue's words in English or Russian).
import Router from '@koa/router';
import type { Knex } from 'knex';
import { pageFrame } from '../http/page-frame.ts';
import { unsubscribePage } from '../../views/unsubscribe.ts';
import { verifyUnsubscribeToken } from './unsubscribe-token.ts';

export function unsubscribeRouter(deps: { db: Knex; keys: string[] }): Router {
  const router = new Router();
  router.get('/unsubscribe/:token', (ctx) => {
    const valid = verifyUnsubscribeToken(deps.keys, ctx.params.token!) !== undefined;
    ctx.status = valid ? 200 : 404;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = unsubscribePage({ ...pageFrame(ctx), ...(valid ? { state: 'ask', action: `/unsubscribe/${encodeURIComponent(ctx.params.token!)}` } : { state: 'invalid' }) });
  });
  router.post('/unsubscribe/:token', async (ctx) => {
    const accountId = verifyUnsubscribeToken(deps.keys, ctx.params.token!);
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    // The switcher goes back to the link's own page (a GET, which changes nothing).
    const frame = pageFrame(ctx, `/unsubscribe/${encodeURIComponent(ctx.params.token!)}`);
    if (!accountId) {
      ctx.status = 404;
      ctx.body = unsubscribePage({ ...frame, state: 'invalid' });
      return;
    }
    // The account may be gone; then there is nobody to mail anyway.
    await deps.db.raw('insert into mailing_unsubscribes (account_id) select id from accounts where id = ? on conflict do nothing', [accountId]);
    ctx.status = 200;
    ctx.body = unsubscribePage({ ...frame, state: 'done' });
  });
  return router;
}
