// Discovery and JWKS are public and the same for everyone (their URLs come from
// ISSUER, ./issuer-origin.ts), so browsers, relying parties and shared caches may
// keep them for a while (RFC 9111 §5.2.2.9). oidc-provider sends no Cache-Control
// on them; every other answer of it keeps its own (no-store where it matters).
import type { Context, Next } from 'koa';
import { matchesRoute } from './route-match.ts';

/** OpenID Connect Discovery 1.0 §4 and RFC 8414 §3: one document at either path. */
export const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
export const JWKS_PATH = '/jwks';
/** Discovery changes only with the configuration, that is with a restart. */
const DISCOVERY_MAX_AGE = 300;
/**
 * `enot-id keys rotate` makes the new keys sign as soon as a process notices (within
 * a minute; server/keys/signing-keys.ts, README "Signing keys"), with no earlier
 * publication; a verifier that meets an unknown `kid` fetches JWKS again, and a
 * cached copy older than the rotation would fail it. So JWKS is kept one minute only.
 */
const JWKS_MAX_AGE = 60;

export async function publicMetadataCaching(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return;
  if (ctx.status !== 200) return;
  // Every spelling oidc-provider's router answers (./route-match.ts).
  if (DISCOVERY_PATHS.some((path) => matchesRoute(ctx.path, path))) ctx.set('Cache-Control', `public, max-age=${DISCOVERY_MAX_AGE}`);
  else if (matchesRoute(ctx.path, JWKS_PATH)) ctx.set('Cache-Control', `public, max-age=${JWKS_MAX_AGE}`);
}
