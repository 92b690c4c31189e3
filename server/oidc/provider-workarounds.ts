// Two oidc-provider 9 error paths that end in a 500 for requests any browser
// (or attacker) can make, found by test/reliability/fuzz.test.ts. Each is
// side-stepped before or after oidc-provider's own handling, not patched.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { matchesRoute } from './route-match.ts';

const DEVICE_ROUTES = new Set(['code_verification', 'device_resume']);

/**
 * On the device pages (`/device`, `/device/:uid`), an error re-renders the code
 * form and, to do that, puts a new xsrf secret into the session
 * (lib/shared/error_handler.js). When the browser had no session yet (no
 * cookie: a replayed POST, an expired session, a made-up /device/:uid), that
 * session was never saved, and the route's last step (ensureSessionSave in
 * lib/helpers/initialize_app.js) throws "persist can only be called on
 * previously persisted Sessions". Such a browser has nothing to resume: it is
 * sent to the start of the device flow, which sets up its session.
 */
export async function restartDeviceFlowWithoutSession(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    const unsaved = err instanceof TypeError && err.message.startsWith('persist can only be called on previously persisted Sessions');
    if (!unsaved || !DEVICE_ROUTES.has(ctx.oidc?.route ?? '')) throw err;
    ctx.status = 303;
    ctx.redirect(ctx.oidc.provider.pathFor('code_verification'));
  }
}

/**
 * `GET /auth/:uid` (resume) takes no parameters: it continues from the
 * interaction its cookie names. When resuming fails, the authorization error
 * handler (lib/shared/authorization_error_handler.js) reads `client_id` from
 * the query string, loads that client, and for a client with one redirect URI
 * calls a helper that reads parameters which were never assembled: a TypeError.
 * The query string of a resume is therefore dropped before oidc-provider sees it.
 */
export async function resumeWithoutQuery(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
  // Matched as oidc-provider's router matches (`/AUTH/x/` too), or a spelling keeps the 500.
  if (ctx.querystring && (ctx.method === 'GET' || ctx.method === 'HEAD') && matchesRoute(ctx.path, '/auth/:uid')) ctx.querystring = '';
  await next();
}
