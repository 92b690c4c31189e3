// The start page at / (GET and HEAD), ours: oidc-provider owns none of it (it would
// answer a JSON 404 there). The discovery and JWKS URLs are built from ISSUER, as
// oidc-provider builds its own (server/oidc/issuer-origin.ts), never from Host.
import Router from '@koa/router';
import { pageFrame } from '../http/page-frame.ts';
import { homePage } from '../../views/home.ts';

export function homeRouter(issuer: string, jwksPath: string, docsUrl?: string): Router {
  const router = new Router();
  const origin = new URL(issuer).origin;
  router.get('/', async (ctx) => {
    ctx.type = 'html';
    // The page depends on the language headers and cookie.
    ctx.set('Vary', 'Accept-Language, Cookie');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = homePage({
      ...pageFrame(ctx),
      issuer: origin,
      discovery: `${origin}/.well-known/openid-configuration`,
      jwks: `${origin}${jwksPath}`,
      ...(docsUrl && { docsUrl }),
    });
  });
  return router;
}
