// Reference "the stack's own limit": oidc-provider alone, with its in-memory
// adapter and Enot ID's token settings: RFC 9068 JWT access tokens signed with
// ES256 for a resource (resourceIndicators), an opaque resource, the same
// lifetimes, rotating refresh tokens, PKCE, introspection, a static confidential
// client with client_credentials. devInteractions stand in for sign-in pages
// (any login, no password check). Prints one JSON line when listening.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import { ACCESS_TOKEN_TTL, BARE_CLIENT, CLIENT_SCOPE, REDIRECT_URI, REFRESH_TOKEN_TTL, RESOURCES } from '../lib/settings.ts';

const port = Number(process.env.PORT ?? 0);
const issuer = process.env.ISSUER ?? `http://127.0.0.1:${port}`;
const now = () => Math.floor(Date.now() / 1000);

async function key(alg: 'ES256' | 'RS256') {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg, use: 'sig', kid: `${alg.toLowerCase()}-bench` };
}

const byIdentifier = new Map(RESOURCES.map((r) => [r.identifier, r]));

const configuration: Configuration = {
  clients: [
    {
      client_id: BARE_CLIENT.clientId,
      client_secret: BARE_CLIENT.clientSecret,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: CLIENT_SCOPE,
    },
  ],
  jwks: { keys: [await key('ES256'), await key('RS256')] as NonNullable<Configuration['jwks']>['keys'] },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef0123456789'] },
  scopes: ['openid', 'offline_access', 'email', ...RESOURCES.flatMap((r) => r.scope.split(' '))],
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'] },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true }),
  }),
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    ClientCredentials: ACCESS_TOKEN_TTL,
    RefreshToken: (_ctx, token) => {
      const startedAt = (token as { iiat?: number }).iiat ?? now();
      return Math.max(1, REFRESH_TOKEN_TTL - (now() - startedAt));
    },
    Grant: REFRESH_TOKEN_TTL,
    Session: REFRESH_TOKEN_TTL,
    Interaction: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    ...({ introspection: { enabled: true } } as object),
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // oidc-provider's default defaultResource: none, so a sign-in without `resource` gets a token for userinfo.
      getResourceServerInfo: (_ctx, indicator) => {
        const resource = byIdentifier.get(indicator);
        if (!resource) throw new Error(`unknown resource ${indicator}`);
        return {
          scope: resource.scope,
          audience: resource.identifier,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: resource.accessTokenFormat,
          ...(resource.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' as const } } } : {}),
        };
      },
      useGrantedResource: () => true,
    },
  },
  formats: {
    customizers: {
      // As Enot ID does: a user-bound JWT names its grant.
      jwt: (_ctx, token, jwt) => {
        const grantId = (token as { grantId?: string }).grantId;
        if (grantId) jwt.payload.grant_id = grantId;
      },
    },
  },
};

const provider = new Provider(issuer, configuration);
const server = http.createServer(provider.callback());
server.keepAliveTimeout = 5_000;
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${actual}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
