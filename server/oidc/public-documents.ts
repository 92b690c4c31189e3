// The discovery document (OpenID Connect Discovery 1.0 §4, RFC 8414 §3) and the
// JWKS (RFC 7517 §5) are the same for every request to one provider: their URLs
// come from ISSUER (./issuer-origin.ts), the rest from the configuration and the
// provider's keys. oidc-provider builds them anew for each request (discovery:
// some twenty URL objects, then JSON); relying parties, libraries and health
// checks fetch them often. The first answer of each provider instance is kept as
// the text oidc-provider sent, with its content type, and given again with
// oidc-provider's own CORS headers for public routes (lib/shared/cors.js: Vary
// Origin, the caller's Origin or *). Rotated signing keys come with a new provider
// (server/keys/), which builds and keeps its own. Cache-Control comes from
// ./cache-headers.ts, which runs around this.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { DISCOVERY_PATHS, JWKS_PATH } from './cache-headers.ts';
import { matchesRoute } from './route-match.ts';

/** oidc-provider's route names, as metrics and traces know them. */
const DOCUMENTS = [
  { route: 'discovery', paths: DISCOVERY_PATHS },
  { route: 'jwks', paths: [JWKS_PATH] },
] as const;

interface Kept {
  body: string;
  type: string;
}

export function cachedPublicDocuments(current: () => Provider) {
  const kept = new WeakMap<Provider, Map<string, Kept>>();
  return async function answerPublicDocumentFromCache(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const route = DOCUMENTS.find((document) => document.paths.some((path) => matchesRoute(ctx.path, path)))?.route;
    if (!route) return next();
    const provider = current();
    let documents = kept.get(provider);
    if (!documents) kept.set(provider, (documents = new Map()));
    const document = documents.get(route);
    if (!document) {
      await next();
      const type = ctx.response.get('content-type');
      if (ctx.status === 200 && type && ctx.body !== null && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
        documents.set(route, { body: JSON.stringify(ctx.body), type });
      }
      return;
    }
    ctx.state.route = route;
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', ctx.get('Origin') || '*');
    ctx.type = document.type;
    ctx.body = document.body;
  };
}
