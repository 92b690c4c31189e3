// Introspection (RFC 7662), revocation (RFC 7009) and userinfo (OIDC Core §5.3)
// for RFC 9068 JWT access tokens. oidc-provider authenticates the client and
// validates the request as usual, then declines a structured token with
// `unsupported_token_type` (or, at userinfo, `invalid_token`); this middleware
// answers in its place. Every other request passes through untouched.
import type { Context, Next } from 'koa';
import type { FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { GRANT_CLAIM, looksLikeJwt, type AccessTokenClaims, type JwtAccessTokens } from './jwt-access-tokens.ts';
import { InvalidRequest } from './protocol-errors.ts';

// OIDC Core §5.4: which claims each scope releases.
const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  roles: ['roles'],
};

function errorCode(ctx: Context): string | undefined {
  const body = ctx.body as { error?: unknown } | undefined;
  return typeof body?.error === 'string' ? body.error : (ctx.state.oidcError as string | undefined);
}

function introspectionResponse(claims: AccessTokenClaims) {
  const { [GRANT_CLAIM]: _grant, ...visible } = claims;
  return { ...visible, active: true, token_type: 'Bearer' };
}

function bearerToken(ctx: KoaContextWithOIDC): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (match) return match[1];
  const fromBody = (ctx.oidc?.params as Record<string, unknown> | undefined)?.access_token;
  return typeof fromBody === 'string' ? fromBody : undefined;
}

export function structuredTokenEndpoints(findAccount: FindAccount, tokens: JwtAccessTokens) {
  async function introspect(ctx: KoaContextWithOIDC, token: string) {
    const claims = await tokens.active(token);
    const client = ctx.oidc.client!;
    // Same policy as oidc-provider's default: a public client sees only its own tokens.
    const allowed = claims && (client.clientAuthMethod !== 'none' || claims.client_id === client.clientId);
    ctx.status = 200;
    ctx.body = allowed ? introspectionResponse(claims) : { active: false };
  }

  async function revoke(ctx: KoaContextWithOIDC, token: string) {
    const claims = await tokens.verified(token);
    const client = ctx.oidc.client!;
    if (claims) {
      if (claims.client_id !== client.clientId) {
        // RFC 7009 §2.1: only the client the token was issued to may revoke it.
        // Public clients get a silent success so they cannot probe for tokens.
        if (client.clientAuthMethod !== 'none') {
          const err = new InvalidRequest('client is not authorized to revoke the presented token');
          ctx.status = err.statusCode;
          ctx.body = { error: err.error, error_description: err.error_description };
          return;
        }
      } else {
        await tokens.revoke(claims);
      }
    }
    // RFC 7009 §2.2: an invalid or unknown token is answered 200 too.
    ctx.status = 200;
    ctx.body = '';
  }

  async function userinfo(ctx: KoaContextWithOIDC, token: string) {
    const claims = await tokens.active(token);
    const scopes = new Set((claims?.scope ?? '').split(' '));
    if (!claims?.sub || !claims[GRANT_CLAIM] || !scopes.has('openid')) return;
    const account = await findAccount(ctx, claims.sub);
    if (!account) return;
    const all = (await account.claims('userinfo', claims.scope!, {}, [])) as Record<string, unknown>;
    const released = Object.fromEntries(
      [...scopes].flatMap((scope) => SCOPE_CLAIMS[scope] ?? []).filter((c) => all[c] !== undefined).map((c) => [c, all[c]]),
    );
    ctx.remove('WWW-Authenticate');
    ctx.status = 200;
    ctx.body = { ...released, sub: claims.sub };
  }

  return async function answerStructuredTokens(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    if (route === 'introspection' || route === 'revocation') {
      const token = (ctx.oidc.params as Record<string, unknown> | undefined)?.token;
      if (ctx.status !== 400 || errorCode(ctx) !== 'unsupported_token_type' || !ctx.oidc.client || !looksLikeJwt(token)) return;
      ctx.type = 'json';
      await (route === 'introspection' ? introspect(ctx, token) : revoke(ctx, token));
    } else if (route === 'userinfo' && ctx.status === 401) {
      const token = bearerToken(ctx);
      if (looksLikeJwt(token)) await userinfo(ctx, token);
    }
  };
}
