// Relying-party side of the tests: openid-client against the running server.
import * as oidc from 'openid-client';
import { createBrowser, readForm, type Page } from './browser.ts';

export const TEST_IAT = 'test-initial-access-token-0123456789abcdef';
export const REDIRECT_URI = 'https://rp.example.test/callback';

const insecure = { execute: [oidc.allowInsecureRequests] };

/** Registers a client by RFC 7591 dynamic registration with the test's initial access token. */
export async function registerClient(issuer: string, metadata: Partial<oidc.ClientMetadata> = {}): Promise<oidc.Configuration> {
  // The client authenticates as it registers (RFC 7591 §2); openid-client would send the secret in the body.
  const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
  const auth = method === 'none' ? oidc.None() : method === 'client_secret_post' ? oidc.ClientSecretPost() : oidc.ClientSecretBasic();
  return oidc.dynamicClientRegistration(
    new URL(issuer),
    {
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...metadata,
    },
    auth,
    { ...insecure, initialAccessToken: TEST_IAT },
  );
}

/** Opens an authorization request (code + PKCE) in a fresh browser; returns the first page it lands on. */
export async function beginAuthorization(config: oidc.Configuration, scope: string, extra: Record<string, string> = {}) {
  const browser = createBrowser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}),
    ...extra,
  });
  const page = await browser.follow(url.href, REDIRECT_URI);
  return { browser, page, verifier, state };
}

/** From a page after sign-in: through consent if asked, to the client, then the token request. */
export async function completeAuthorization(
  config: oidc.Configuration,
  started: { browser: ReturnType<typeof createBrowser>; verifier: string; state: string },
  page: Awaited<ReturnType<ReturnType<typeof createBrowser>['follow']>>,
) {
  if (!page.url.startsWith(REDIRECT_URI)) {
    const consent = readForm(page, /\/confirm$/);
    page = await started.browser.submit(consent.action, consent.hidden, REDIRECT_URI);
  }
  if (!page.url.startsWith(REDIRECT_URI)) throw new Error(`did not reach the client: ${page.status} ${page.body.slice(0, 300)}`);
  return oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: started.verifier, expectedState: started.state });
}

/** From the login page: signs in with a password, through consent if asked, to the client's redirect URI. */
export async function passLogin(browser: ReturnType<typeof createBrowser>, page: Page, input: { email: string; password: string }): Promise<Page> {
  const login = readForm(page, /\/code$/);
  page = await browser.submit(login.action.replace(/\/code$/, '/login'), { ...login.hidden, identifier: input.email, password: input.password }, REDIRECT_URI);
  if (!page.url.startsWith(REDIRECT_URI)) {
    const consent = readForm(page, /\/confirm$/);
    page = await browser.submit(consent.action, consent.hidden, REDIRECT_URI);
  }
  if (!page.url.startsWith(REDIRECT_URI)) throw new Error(`sign-in did not reach the client: ${page.status} ${page.body.slice(0, 300)}`);
  return page;
}

/** Runs the authorization code + PKCE flow through the real login and consent pages. */
export async function signIn(
  config: oidc.Configuration,
  input: { email: string; password: string; scope: string; browser?: ReturnType<typeof createBrowser>; resource?: string },
) {
  const browser = input.browser ?? createBrowser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: input.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    // OIDC Core §11: offline_access is only granted with prompt=consent.
    ...(input.scope.includes('offline_access') ? { prompt: 'consent' } : {}),
    ...(input.resource ? { resource: input.resource } : {}),
  });

  const page = await passLogin(browser, await browser.follow(url.href, REDIRECT_URI), input);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url), { pkceCodeVerifier: verifier, expectedState: state });
  return { tokens, browser };
}

export { oidc, insecure };

/**
 * A client created as an operator creates one (the CLI's way: validated by
 * oidc-provider, stored through the adapter), so it may carry operator-only
 * metadata such as `first_party`. Returns an openid-client configuration.
 */
export async function operatorClient(
  server: { issuer: string; runtime: { adapters(model: string): { upsert(id: string, payload: Record<string, unknown>, ttl: number): Promise<void> } } },
  metadata: Record<string, unknown>,
): Promise<oidc.Configuration> {
  const clientId = `op-${Math.random().toString(16).slice(2)}`;
  const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : `secret-${Math.random().toString(36).slice(2)}-0123456789abcdef`;
  const stored = {
    client_id: clientId,
    ...(secret ? { client_secret: secret } : {}),
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...metadata,
  };
  await server.runtime.adapters('Client').upsert(clientId, stored, 0);
  const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
  return oidc.discovery(new URL(server.issuer), clientId, { ...stored } as Partial<oidc.ClientMetadata>, auth, insecure);
}

/**
 * Gives a machine client a role that grants these scopes of `resource`
 * (default: DEFAULT_RESOURCE): client credentials tokens carry only what the
 * client's roles grant (issue 11).
 */
export async function grantClientScopes(
  server: { runtime: { db: import('knex').Knex } },
  client: oidc.Configuration,
  scopes: string[],
  resource = 'urn:enot-id:api',
  role = `machine-${client.clientMetadata().client_id.slice(0, 12).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`,
): Promise<void> {
  const { addClientRoles, grantPermissions } = await import('../../server/rbac/roles.ts');
  await grantPermissions(server.runtime.db, role, resource, scopes);
  await addClientRoles(server.runtime.db, client.clientMetadata().client_id, [role]);
}
