// OIDC Core §3.1.2.1 and RP-Initiated Logout §2: the authorization and logout
// endpoints accept POST (form serialization) as well as GET.
//
// oidc-provider's own switch (`enableHttpPostMethods`) demands that its session
// cookie be `SameSite=None`: a browser sends a `Lax` cookie with a cross-site
// top-level GET but not with a cross-site POST, so a POSTed request would not
// see the person's session (prompt=none would fail, a logout would end nothing).
// `SameSite=None` would lose that CSRF defence and needs `Secure`, which browsers
// refuse on the plain-http issuer of local development. Instead a POSTed request
// is answered 303 See Other (RFC 9110 §15.4.4) to the same endpoint with the same
// parameters in the query: the browser repeats it as a top-level GET, which
// carries the session cookie, and oidc-provider handles it as any GET.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { readForm } from '../http/read-form.ts';
import { PayloadTooLarge } from '../errors/index.ts';
import { matchesRoute } from './route-match.ts';

/** Node reads request heads of up to 16 KiB; the repeated GET must fit in one. */
const MAX_QUERY_LENGTH = 12 * 1024;

export function httpPostMethods(paths: string[]) {
  return async function postAsGet(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    // Every spelling oidc-provider's router answers (./route-match.ts); the GET goes to the canonical path.
    const path = ctx.method === 'POST' ? paths.find((p) => matchesRoute(ctx.path, p)) : undefined;
    if (!path) return next();
    const query = (await readForm(ctx)).toString();
    if (query.length > MAX_QUERY_LENGTH) throw new PayloadTooLarge();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(`${path}?${query}`);
  };
}
