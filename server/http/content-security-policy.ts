// Content-Security-Policy (OWASP ASVS V14.4.3) on every response, set before
// anything renders: oidc-provider adds the hash of its form_post page's inline
// script to script-src when it finds the header already there
// (lib/helpers/script_src_sha.js). Only markup carrying this response's fresh
// nonce runs or styles the page, so markup injected into a page would do neither.
//
// - default-src 'none': nothing loads unless named below.
// - script-src / style-src: the nonce of the one <script> (the QR poll) and the
//   one <style> (the layout); no inline style="" attributes anywhere.
// - img-src 'self' data:, and the https origin of a logo the page shows (the
//   instance's BRAND_LOGO_URL, a client's logo_uri: allowImage); data: only ever
//   holds PNG, JPEG, GIF or WebP (server/config/brand.ts, views/client-card.ts).
// - connect-src 'self' (the QR page polls its own origin).
// - form-action: our forms post to our own origin, and some are answered with a
//   redirect to the client (sign-in, consent and logout end at its redirect URI).
//   Chromium checks form-action (CSP Level 3, a navigation directive) on every hop
//   of the redirects that follow a form submission, not only on the form's own
//   action (Firefox does not; test/browser-csp.test.ts shows Chromium's), so such
//   a page also names the one client origin it is for (allowFormTarget); the
//   origin comes from a redirect URI oidc-provider has already checked against
//   the client's registration.
// - frame-ancestors 'none' (no framing, clickjacking); base-uri 'none'.
import { randomFillSync } from 'node:crypto';
import type { Context, Next } from 'koa';

const NONCE = Symbol('csp-nonce');
const FORM_TARGETS = Symbol('csp-form-targets');
const IMAGES = Symbol('csp-images');

interface CspState {
  [NONCE]?: string;
  [FORM_TARGETS]?: Set<string>;
  [IMAGES]?: Set<string>;
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

// 128 bits from the CSPRNG for each response (CSP 3 §7.1: unguessable, fresh for every
// response), taken from a pool filled 256 nonces at a time: one call into the CSPRNG per
// response was 2% of the CPU of a JSON answer, which never uses its nonce. Each slice of
// the pool is handed out once, as Node does for randomUUID().
const NONCE_BYTES = 16;
const pool = Buffer.alloc(NONCE_BYTES * 256);
let poolOffset = pool.length;

function freshNonce(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const nonce = pool.toString('base64', poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return nonce;
}

export async function contentSecurityPolicy(ctx: Context, next: Next): Promise<void> {
  const nonce = freshNonce();
  const state = ctx.state as CspState;
  state[NONCE] = nonce;
  state[FORM_TARGETS] = new Set();
  state[IMAGES] = new Set();
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
 * has checked against the client's registration).
 */
export function allowFormTarget(ctx: Context, redirectUri: unknown): void {
  const source = typeof redirectUri === 'string' ? sourceOf(redirectUri) : undefined;
  if (source) addSource(ctx, FORM_TARGETS, 'form-action', source);
}

/** Lets this page show the image at `url` when it is https (data: images are allowed already); nothing else. */
export function allowImage(ctx: Context, url: string | undefined): void {
  const parsed = url ? URL.parse(url) : null;
  if (parsed?.protocol === 'https:') addSource(ctx, IMAGES, 'img-src', parsed.origin);
}

/** Adds `source` to `directive` ('self' first, data: too for images), keeping the rest of the header as it is, hashes oidc-provider added included. */
function addSource(ctx: Context, key: typeof FORM_TARGETS | typeof IMAGES, directive: string, source: string): void {
  const sources = (ctx.state as CspState)[key];
  if (!sources || sources.has(source)) return;
  sources.add(source);
  const current = ctx.response.get('Content-Security-Policy');
  const directives = current.split(';').map((d) => d.trim()).filter((d) => d && !d.startsWith(`${directive} `));
  const base = key === IMAGES ? ["'self'", 'data:'] : ["'self'"];
  ctx.set('Content-Security-Policy', [...directives, [directive, ...base, ...sources].join(' ')].join('; '));
}
