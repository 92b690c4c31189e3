// The token endpoint's span (server/tracing/): oidc-provider's whole handling of a
// token request (client authentication, the grant, issuing), as `oidc.token` with
// the grant type and the answer's status. Its steps have spans of their own where
// our code runs inside it: client-secret-method.ts, resource-servers.ts, provider.ts.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { annotateSpan, traced } from '../tracing/spans.ts';

// A bounded attribute: the grant types oidc-provider knows; anything a client made up is `other`.
const GRANT_TYPES = new Set([
  'authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code',
]);

export function tracedTokenEndpoint(tokenPath: string) {
  return async function traceTokenRequest(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== tokenPath) return next();
    await traced('oidc.token', async () => {
      try {
        await next();
      } finally {
        const grantType = (ctx.oidc?.params as { grant_type?: unknown } | undefined)?.grant_type;
        annotateSpan({
          'oauth.grant_type': typeof grantType === 'string' && GRANT_TYPES.has(grantType) ? grantType : 'other',
          'http.response.status_code': ctx.status,
        });
      }
    });
  };
}
