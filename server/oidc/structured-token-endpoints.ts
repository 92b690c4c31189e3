// Introspection (RFC 7662), revocation (RFC 7009) and userinfo (OIDC Core §5.3)
// for RFC 9068 JWT access tokens. oidc-provider authenticates the client and
// validates the request as usual, then declines a structured token with
// `unsupported_token_type` (or, at userinfo, `invalid_token`); this middleware
// answers in its place. Every other request passes through untouched.
import type { Context, Next } from 'koa';
import type { FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { GRANT_CLAIM, looksLikeJwt, type AccessTokenClaims, type JwtAccessTokens } from './jwt-access-tokens.ts';
import { InvalidRequest } from './protocol-errors.ts';
import { revocationAllowed, type IntrospectionPolicy } from './token-policies.ts';
import { boundKey, challenge, presentedToken, replayStore, senderProblem, type PresentedToken, type SenderProblem } from './dpop.ts';

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

function isActiveUserToken(body: unknown): body is { active: true; sub: string } {
  const b = body as { active?: unknown; sub?: unknown } | undefined;
  return b?.active === true && typeof b.sub === 'string' && !('client_id' in b && b.client_id === b.sub);
}

function introspectionResponse(claims: AccessTokenClaims) {
  const { [GRANT_CLAIM]: _grant, ...visible } = claims;
  // RFC 7662 §2.2 token_type; a key-bound token is a DPoP token (RFC 9449 §6.1).
  return { ...visible, active: true, token_type: boundKey(claims) ? 'DPoP' : 'Bearer' };
}

/** The token as presented: the Authorization header, or (RFC 6750 §2.2) the form body as Bearer. */
function presented(ctx: KoaContextWithOIDC): PresentedToken | undefined {
  const fromHeader = presentedToken(ctx.get('authorization'));
  if (fromHeader) return fromHeader;
  const fromBody = (ctx.oidc?.params as Record<string, unknown> | undefined)?.access_token;
  return typeof fromBody === 'string' ? { scheme: 'Bearer', token: fromBody } : undefined;
}

function refuse(ctx: KoaContextWithOIDC, token: PresentedToken, jkt: string | undefined, problem: SenderProblem): void {
  ctx.status = 401;
  ctx.type = 'json';
  ctx.set('WWW-Authenticate', challenge(token, jkt, problem));
  ctx.body = { error: problem.error, error_description: problem.description };
}

export function structuredTokenEndpoints(
  findAccount: FindAccount,
  tokens: JwtAccessTokens,
  accountIsActive: (id: string) => Promise<boolean>,
  /** The only audience userinfo accepts: DEFAULT_RESOURCE, what a client gets when it names no API. */
  userinfoAudience: string,
  /** The same policy oidc-provider applies to stored tokens (token-policies.ts). */
  introspectionAllowed: IntrospectionPolicy,
) {
  async function introspect(ctx: KoaContextWithOIDC, token: string) {
    const found = await tokens.active(token);
    const allowed = found && (await introspectionAllowed(ctx, ctx.oidc.client!, { clientId: found.claims.client_id, aud: found.claims.aud }));
    ctx.status = 200;
    ctx.body = allowed ? introspectionResponse(found.claims) : { active: false };
  }

  async function revoke(ctx: KoaContextWithOIDC, token: string) {
    const claims = await tokens.verified(token);
    if (claims) {
      try {
        if (await revocationAllowed(ctx, ctx.oidc.client!, { clientId: claims.client_id })) await tokens.revoke(claims);
      } catch (err) {
        const refused = err as InstanceType<typeof InvalidRequest>;
        ctx.status = refused.statusCode;
        ctx.body = { error: refused.error, error_description: refused.error_description };
        return;
      }
    }
    // RFC 7009 §2.2: an invalid or unknown token is answered 200 too.
    ctx.status = 200;
    ctx.body = '';
  }

  async function userinfo(ctx: KoaContextWithOIDC, token: PresentedToken) {
    // findAccount answers "not found" for a blocked account and remembers its answer for
    // this request: the account is read once, for the check and for the claims below.
    const found = await tokens.active(token.token, async (id) => Boolean(await findAccount(ctx, id)));
    const claims = found?.claims;
    if (!claims) return;
    const jkt = boundKey(claims);
    // A token issued for another API (RFC 8707) must not open the person's
    // profile: that API could otherwise replay it here (RFC 9068 §4, audience).
    if (![claims.aud ?? []].flat().includes(userinfoAudience)) {
      return refuse(ctx, token, jkt, { error: 'invalid_token', description: 'the access token was issued for another audience than userinfo' });
    }
    const problem = await senderProblem({
      presented: token,
      jkt,
      proof: ctx.get('dpop') || undefined,
      method: ctx.method,
      url: ctx.oidc.urlFor('userinfo'),
      unique: (jti, expiresAt) => replayStore(ctx.oidc.provider).unique(claims.client_id, jti, expiresAt),
    });
    if (problem) return refuse(ctx, token, jkt, problem);
    // The access token carries the API's scopes; the grant holds the OIDC scopes the person consented to.
    const oidcScope = found?.grant?.getOIDCScope() ?? '';
    const scopes = new Set(oidcScope.split(' '));
    if (!claims.sub || !scopes.has('openid')) return;
    const account = await findAccount(ctx, claims.sub);
    if (!account) return;
    const all = (await account.claims('userinfo', oidcScope, {}, [])) as Record<string, unknown>;
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
    if (route === 'introspection' && ctx.status === 200 && isActiveUserToken(ctx.body)) {
      // A stored token of a blocked account is inactive too, as a JWT would be.
      if (!(await accountIsActive(ctx.body.sub))) ctx.body = { active: false };
      return;
    }
    if (route === 'introspection' || route === 'revocation') {
      const token = (ctx.oidc.params as Record<string, unknown> | undefined)?.token;
      if (ctx.status !== 400 || errorCode(ctx) !== 'unsupported_token_type' || !ctx.oidc.client || !looksLikeJwt(token)) return;
      ctx.type = 'json';
      await (route === 'introspection' ? introspect(ctx, token) : revoke(ctx, token));
    } else if (route === 'userinfo' && ctx.status === 401 && errorCode(ctx) === 'invalid_token') {
      // oidc-provider found no stored token (a JWT is never stored); an invalid
      // DPoP proof it already refused (invalid_dpop_proof) stays refused.
      const token = presented(ctx);
      if (token && looksLikeJwt(token.token)) await userinfo(ctx, token);
    }
  };
}
