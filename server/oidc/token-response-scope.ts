// RFC 6749 §5.1: the `scope` of a token response is the scope of what was
// issued, a valid scope string (§3.3: one or more scope tokens).
//
// oidc-provider answers with the access token's own scope. With resource
// indicators an access token for an API carries only that API's scopes, so
// `openid email` for the default resource is answered `scope: ""`, though the
// person granted `openid email` and the token works at userinfo for exactly
// those claims (structured-token-endpoints.ts). The answer therefore names the
// granted OpenID Connect scopes of this request together with the access
// token's resource scopes; an empty scope is left out.
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { onlyOidcScopes } from './oidc-scopes.ts';

const words = (scope: unknown): string[] => (typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);

/** The OIDC scopes this token request was granted: those asked for (or of the code / refresh token) that the grant holds. */
function grantedOidcScopes(ctx: KoaContextWithOIDC): string[] {
  const { entities, params } = ctx.oidc;
  const grant = entities.Grant;
  const source = entities.AuthorizationCode ?? entities.RefreshToken ?? entities.DeviceCode;
  if (!grant || !source) return [];
  const asked = words((params as { scope?: unknown } | undefined)?.scope ?? source.scope);
  // Only OpenID Connect scopes: oidc-provider counts API scopes among them too (oidc-scopes.ts).
  return onlyOidcScopes(words(grant.getOIDCScopeFiltered(new Set(asked))));
}

export async function tokenResponseScope(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
  await next();
  if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
  const body = ctx.body as { scope?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !('scope' in body)) return;
  const scope = [...new Set([...grantedOidcScopes(ctx), ...words(body.scope)])].join(' ');
  if (scope) body.scope = scope;
  else delete body.scope;
}
