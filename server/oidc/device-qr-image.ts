// GET /device/qr.svg?user_code=…: the QR of verification_uri_complete (RFC 8628
// §3.3.1) as an SVG image, so a TV or a small device can show it with one <img>
// and no QR library. It only ever encodes this issuer's own /device URL.
import Router from '@koa/router';
import { InvalidRequest } from '../errors/index.ts';
import { qrSvg } from '../qr/svg.ts';

// oidc-provider's base-20 charset: no vowels, no look-alikes (RFC 8628 §6.1).
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{8}$/;

export function deviceQrRouter(issuer: string) {
  const router = new Router();
  router.get('/device/qr.svg', async (ctx) => {
    const raw = typeof ctx.query.user_code === 'string' ? ctx.query.user_code : '';
    const normalized = raw.toUpperCase().replace(/[^A-Z]/g, '');
    if (!USER_CODE.test(normalized)) throw new InvalidRequest('user_code must be a code such as BCDF-GHJK');
    const link = `${issuer}/device?user_code=${normalized.slice(0, 4)}-${normalized.slice(4)}`;
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'no-store');
    // The image may be shown on another origin (a TV app); it carries nothing secret beyond the user code.
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    ctx.body = await qrSvg(link);
  });
  return router;
}
