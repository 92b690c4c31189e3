// Content-Security-Policy (OWASP ASVS V14.4.3) on every response, set before
// anything renders: oidc-provider adds the hash of its form_post page's inline
// script to script-src when it finds the header already there
// (lib/helpers/script_src_sha.js). Only markup carrying this response's fresh
// nonce runs or styles the page, so markup injected into a page would do neither.
//
// - default-src 'none': nothing loads unless named below.
// - script-src / style-src: the nonce of the one <script> (the QR poll) and the
//   one <style> (the layout); no inline style="" attributes anywhere.
// - img-src 'self' data:; connect-src 'self' (the QR page polls its own origin).
// - form-action: our forms post to our own origin, and some are answered with a
//   redirect to the client (sign-in, consent and logout end at its redirect URI).
//   Chromium checks form-action (CSP Level 3, a navigation directive) on every hop
//   of the redirects that follow a form submission, not only on the form's own
//   action (Firefox does not; test/browser-csp.test.ts shows Chromium's), so such
//   a page also names the one client origin it is for (allowFormTarget); the
//   origin comes from a redirect URI oidc-provider has already checked against
//   the client's registration.
// - frame-ancestors 'none' (no framing, clickjacking); base-uri 'none'.
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';

const NONCE = Symbol('csp-nonce');
const FORM_TARGETS = Symbol('csp-form-targets');

interface CspState {
  [NONCE]?: string;
  [FORM_TARGETS]?: Set<string>;
}

function policy(nonce: string, formTargets: Iterable<string>): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    ['form-action', "'self'", ...formTargets].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export async function contentSecurityPolicy(ctx: Context, next: Next): Promise<void> {
  // 128 bits from the CSPRNG (CSP 3 §7.1: unguessable, fresh for every response).
  const nonce = randomBytes(16).toString('base64');
  const state = ctx.state as CspState;
  state[NONCE] = nonce;
  state[FORM_TARGETS] = new Set();
  ctx.set('Content-Security-Policy', policy(nonce, []));
  await next();
}

/** This response's nonce, for the views' <script> and <style> tags. */
export function cspNonce(ctx: Context): string {
  const nonce = (ctx.state as CspState)[NONCE];
  if (!nonce) throw new Error('contentSecurityPolicy must run before a page is drawn');
  return nonce;
}

/** CSP source of a redirect target: its origin, or its scheme for a native app's private-use URI (RFC 8252 §7.1). */
function sourceOf(uri: string): string | undefined {
  const url = URL.parse(uri);
  if (!url) return undefined;
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
}

/**
 * Lets this page's forms end, through redirects, at `redirectUri` (a URI oidc-provider
 * has checked against the client's registration). Keeps the rest of the header as it
 * is, hashes oidc-provider added included.
 */
export function allowFormTarget(ctx: Context, redirectUri: unknown): void {
  const targets = (ctx.state as CspState)[FORM_TARGETS];
  const source = typeof redirectUri === 'string' ? sourceOf(redirectUri) : undefined;
  if (!targets || !source || targets.has(source)) return;
  targets.add(source);
  const current = ctx.response.get('Content-Security-Policy');
  const directives = current.split(';').map((d) => d.trim()).filter((d) => d && !d.startsWith('form-action'));
  ctx.set('Content-Security-Policy', [...directives, ['form-action', "'self'", ...targets].join(' ')].join('; '));
}
