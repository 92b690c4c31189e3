// The language switcher on every page: a plain link to
// /language?set=<locale>&return=<this page>, which remembers the choice in a
// cookie and sends the browser back. It works without JavaScript.
//
// `return` is where the browser goes next, so it is an open redirect unless it is
// held to a path on this origin (OWASP Unvalidated Redirects and Forwards Cheat
// Sheet): it must start with one "/", never "//" (a scheme-relative URL names
// another host) nor contain a backslash (browsers read "/\evil.example" as
// "//evil.example"), control characters or spaces; parsed as a URL it must stay on
// the origin it is parsed against, and only its path and query are sent back.
import Router from '@koa/router';
import type { Context } from 'koa';
import { LANGUAGE_COOKIE, LOCALES, type Locale } from './locale.ts';
import { InvalidRequest } from '../errors/index.ts';

const YEAR_SECONDS = 365 * 24 * 3600;
/** Any origin will do: only a path that stays on it is accepted, and only the path is kept. */
const PARSE_BASE = 'http://this-site.invalid';
const MAX_RETURN_LENGTH = 2048;

/** `value` as a same-origin path and query to send the browser to, or undefined when it is anything else. */
export function sameOriginPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_RETURN_LENGTH) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  // Control characters, spaces and DEL: browsers strip some of them ("/\t/evil.example" is "//evil.example").
  if (/[\u0000-\u0020\u007f]/.test(value)) return undefined;
  const url = URL.parse(value, PARSE_BASE);
  if (!url || url.origin !== PARSE_BASE) return undefined;
  const path = `${url.pathname}${url.search}`;
  return path.startsWith('//') ? undefined : path;
}

/**
 * Where the switcher on the page answering `ctx` brings the browser back to: the
 * page itself when it was a GET, else `fallback` (a form's answer cannot be asked
 * for again by a link), or no switcher at all when neither is a path of ours.
 */
export function switcherReturn(ctx: Context, fallback?: string): string | undefined {
  const here = ctx.method === 'GET' || ctx.method === 'HEAD' ? ctx.originalUrl : fallback;
  return sameOriginPath(here);
}

/** The Set-Cookie value that remembers `locale` for a year (SameSite=Lax, HttpOnly; Secure when ISSUER is https). */
function languageCookie(locale: Locale, secure: boolean): string {
  return `${LANGUAGE_COOKIE}=${locale}; Path=/; Max-Age=${YEAR_SECONDS}; SameSite=Lax; HttpOnly${secure ? '; Secure' : ''}`;
}

/** `secure`: ISSUER is https, so the cookie is sent over https only. */
export function languageRouter(secure: boolean): Router {
  const router = new Router();

  router.get('/language', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const locale = LOCALES.find((l) => l === ctx.query.set);
    if (!locale) throw new InvalidRequest('set must be one of: en, ru');
    const back = ctx.query.return === undefined ? '/' : sameOriginPath(ctx.query.return);
    if (!back) throw new InvalidRequest('return must be a path on this site');
    // Written by hand: koa's cookie jar refuses a Secure cookie on a plain-HTTP hop
    // (a TLS-terminating proxy that is not trusted), and this one carries no secret.
    ctx.append('Set-Cookie', languageCookie(locale, secure));
    ctx.status = 303;
    ctx.redirect(back);
  });

  return router;
}
