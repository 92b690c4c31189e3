// The OpenID Connect scopes (OIDC Core §5.4, §11, plus `roles`). oidc-provider's
// `scopes` setting must also list every API scope, or clients could not
// register them (RFC 7591 §2 `scope`), and it then treats an API scope like an
// OIDC one wherever it looks at "OIDC scopes" of a request. Where that matters
// (consent, the token response's scope) only these count as OIDC scopes; API
// scopes are what a resource server grants (resource-servers.ts).
export const OIDC_SCOPES: readonly string[] = ['openid', 'offline_access', 'email', 'phone', 'roles'];

const oidc = new Set(OIDC_SCOPES);

export function onlyOidcScopes(scopes: Iterable<string>): string[] {
  return [...scopes].filter((scope) => oidc.has(scope));
}
