// oidc-provider configured for Enot ID. Spec references sit beside each choice.
import type { Knex } from 'knex';
import type { JWK } from 'jose';
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { AdapterFactory } from '../../adapters/types.ts';
import type { Logger } from '../logging/logger.ts';
import { findAccountFor } from './find-account.ts';
import { isAccountActive } from '../accounts/queries.ts';
import { resourceServerInfo } from './resource-servers.ts';
import { GRANT_CLAIM, jwtAccessTokens } from './jwt-access-tokens.ts';
import { structuredTokenEndpoints } from './structured-token-endpoints.ts';
import * as pages from './pages.ts';
import { loadExistingGrant } from './existing-grant.ts';
import { OIDC_SCOPES } from './oidc-scopes.ts';
import { OPERATOR_METADATA, pkceRequired, validateOperatorMetadata } from './operator-metadata.ts';
import type { Limiters } from '../rate-limit/limiters.ts';
import { deviceFlowLimits } from './device-flow.ts';
import { introspectionPolicy, revocationAllowed } from './token-policies.ts';
import { storageUnavailable } from './storage-unavailable.ts';
import { cookieSigner } from '../keys/cookie-signer.ts';
import { restartDeviceFlowWithoutSession, resumeWithoutQuery } from './provider-workarounds.ts';
import { httpPostMethods } from './http-post-methods.ts';
import { preciseErrorCodes } from './error-codes.ts';
import { grantErrorDescriptions } from './grant-error-descriptions.ts';
import { tokenResponseScope } from './token-response-scope.ts';
import { tracedTokenEndpoint } from './traced-token-endpoint.ts';
import { traced } from '../tracing/spans.ts';
import { clientMetadataValidator, SOFTWARE_METADATA } from './client-metadata-policy.ts';
import { enforceRegisteredSecretMethod } from './client-secret-method.ts';
import { logRefusals } from './error-log.ts';
import { sessionDeviceRecorder } from '../self-service/session-devices.ts';
import { newClientId } from '../clients/operator-clients.ts';

export interface ProviderDeps {
  config: Config;
  db: Knex;
  adapters: AdapterFactory;
  signingKeys: JWK[];
  cookieKeys: string[];
  logger: Logger;
  limiters: Limiters;
  /** Outgoing requests (back-channel logout); oidc-provider's own, with its SSRF protection, when unset. */
  providerFetch?: typeof fetch;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * oidc-provider's login and consent prompts, plus `create` from "Initiating
 * User Registration via OpenID Connect 1.0" (prompt=create opens registration).
 */
function interactionPrompts() {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  return policy;
}

/** Lifetime of ID tokens; a retired signing key stays published at least this long. */
export const ID_TOKEN_TTL = 3600;

export function createProvider({ config, db, adapters, signingKeys, cookieKeys, logger, limiters, providerFetch }: ProviderDeps) {
  const findAccount = findAccountFor(db);
  const serverInfo = resourceServerInfo(config, db, findAccount);
  const metadataRules = clientMetadataValidator(config.issuer);
  const introspectionAllowed = introspectionPolicy(db);

  const configuration: Configuration = {
    adapter: adapters as unknown as Configuration['adapter'],
    findAccount,
    jwks: { keys: signingKeys as NonNullable<Configuration['jwks']>['keys'] },
    // The same signer as the app that mounts it (server/keys/cookie-signer.ts).
    cookies: { keys: cookieSigner(cookieKeys) as unknown as string[] },
    // OIDC scopes and every resource server's scopes, so clients may register them (RFC 7591 §2).
    scopes: [
      ...new Set([...OIDC_SCOPES, ...config.resourceServers.flatMap((r) => r.scope.split(' ').filter(Boolean))]),
    ],
    // OIDC Core §5.4 scope claims, plus `roles`.
    claims: {
      // amr (RFC 8176) says how the person signed in: pwd, otp, sms.
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      roles: ['roles'],
    },
    // ID tokens carry the claims of the granted scopes, so a relying party needs no userinfo call.
    conformIdTokenClaims: false,
    // OIDC Core §15.2: a dynamic OP supports code, id_token and id_token token. A client gets
    // the implicit ones only when it registers them (RFC 9700 §2.1.2); clientDefaults keep code.
    responseTypes: ['code', 'id_token', 'id_token token'],
    // OIDC Core §3.1.2.1: redirect_uri is REQUIRED, also for a client with one registered URI.
    allowOmittingSingleRegisteredRedirectUri: false,
    // RFC 9700 §2.1.1: PKCE for every client of the code flow (oidc-provider 9 accepts only S256),
    // unless the operator exempted a confidential client that sends a nonce (operator-metadata.ts).
    pkce: { required: pkceRequired },
    rotateRefreshToken: true,
    // Browser apps (public clients, e.g. examples/tv.html) may call the provider
    // from the origins of their redirect URIs; confidential clients never from a browser.
    clientBasedCORS: (ctx, origin, client) => {
      if (origin === 'null') return false;
      if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
      return client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false;
    },
    // Our client metadata rules (client-metadata-policy.ts) and the operator-only metadata
    // (`first_party`, `pkce_exempt`: never from dynamic registration, operator-metadata.ts)
    // run inside oidc-provider's validation, which calls the validator once per listed property.
    extraClientMetadata: {
      properties: [...SOFTWARE_METADATA, ...OPERATOR_METADATA],
      validator: (ctx, key, value, metadata) => {
        if ((OPERATOR_METADATA as readonly string[]).includes(key)) validateOperatorMetadata(ctx, key, value, metadata as Record<string, unknown>);
        else metadataRules(ctx, key, value, metadata as Record<string, unknown>);
      },
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
    },
    ttl: {
      // The resource's own lifetime (its access_token_ttl, ./resource-servers.ts), else ACCESS_TOKEN_TTL.
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl,
      // An absolute lifetime counted from sign-in: rotation does not extend it (RFC 9700 §4.14.2).
      RefreshToken: (_ctx, token) => {
        const startedAt = (token as { iiat?: number }).iiat ?? now();
        return Math.max(1, config.refreshTokenTtl - (now() - startedAt));
      },
      Grant: config.refreshTokenTtl,
      Session: config.refreshTokenTtl,
      Interaction: 3600,
      // RFC 6749 §4.1.2: authorization codes are short-lived.
      AuthorizationCode: 60,
      DeviceCode: config.deviceCodeTtl,
      IdToken: ID_TOKEN_TTL,
    },
    // The grant a request starts from: this session's, or one made from the consent the
    // person gave this client before in another browser; the account page's own client
    // never asks (existing-grant.ts).
    loadExistingGrant: loadExistingGrant(db),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: interactionPrompts() },
    renderError: pages.renderError,
    ...(providerFetch ? { fetch: providerFetch } : {}),
    discovery: {
      claim_types_supported: ['normal'],
      ui_locales_supported: ['en', 'ru'],
      // oidc-provider publishes no prompt list; these are the prompts it accepts here.
      prompt_values_supported: ['none', 'login', 'consent', 'create'],
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 7662; missing from @types/oidc-provider's feature list, present in the library.
      ...({ introspection: { enabled: true, allowedPolicy: introspectionAllowed } } as object),
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: true },
      // RFC 7591 §3: registration requires an initial access token.
      // Client ids as the CLI and admin API make them (hex): oidc-provider's default
      // (nanoid) starts with "-" one time in 64, which a command line takes for an option.
      registration: { enabled: true, initialAccessToken: true, idFactory: () => newClientId() },
      // RFC 7592: update (PUT) and delete (DELETE) at registration_client_uri. Each update issues a
      // new registration access token (§2.2), so a leaked one stops working at the next update.
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      // OIDC Back-Channel Logout 1.0: logout tokens are POSTed to clients' backchannel_logout_uri,
      // and ID tokens of clients that need it carry `sid`.
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      deviceFlow: {
        enabled: true,
        // RFC 8628 §6.1: no vowels, no look-alikes; 8 characters shown as XXXX-XXXX.
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: pages.userCodeInputSource,
        userCodeConfirmSource: pages.userCodeConfirmSource,
        successSource: pages.deviceSuccessSource,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? config.defaultResource,
        getResourceServerInfo: (ctx, indicator, client) => serverInfo(ctx, indicator, client),
        // Access tokens are for the API named by the grant (RFC 9068), not only for userinfo.
        useGrantedResource: () => true,
      },
    },
    // Roles travel in user-bound access tokens (and so in introspection) when the
    // person granted the `roles` scope, so APIs can authorise without a lookup.
    extraTokenClaims: (ctx, token) => traced('oidc.extra_token_claims', async () => {
      const accountId = 'accountId' in token ? token.accountId : undefined;
      const grantedScope = ctx.oidc.entities.Grant?.getOIDCScope() ?? token.scope ?? '';
      if (!accountId || !grantedScope.split(' ').includes('roles')) return undefined;
      const account = ctx.oidc.entities.Account ?? (await findAccount(ctx, accountId));
      const claims = account ? await account.claims('userinfo', 'roles', {}, []) : undefined;
      return claims ? { roles: (claims as { roles?: string[] }).roles ?? [] } : undefined;
    }),
    formats: {
      customizers: {
        // Ties a user-bound JWT to its grant, so revoking the grant deactivates it.
        jwt: (_ctx, token, jwt) => {
          const grantId = (token as { grantId?: string }).grantId;
          if (grantId) jwt.payload[GRANT_CLAIM] = grantId;
        },
      },
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Mounted with koa-mount, the provider's middleware runs on the parent app's context
  // (server/app.ts), whose proxy settings decide ctx.ip; these apply to the contexts
  // oidc-provider makes itself (provider.createContext: interactionDetails, cookies).
  provider.proxy = config.trustProxy;
  provider.maxIpsCount = config.proxyHops;
  enforceRegisteredSecretMethod(provider);

  const jwtTokens = jwtAccessTokens({
    provider,
    db,
    issuer: config.issuer,
    signingKeys,
    revoked: adapters('RevokedAccessToken'),
  });
  // Outermost: a refusal is logged only if the final answer is still one (error-log.ts).
  provider.use(logRefusals(provider, logger) as Parameters<Provider['use']>[0]);
  // Next, so it sees the final answer: a 500 from a lost PostgreSQL/Redis connection becomes 503.
  provider.use(storageUnavailable(provider) as Parameters<Provider['use']>[0]);
  provider.use(pages.formPostTarget as Parameters<Provider['use']>[0]);
  provider.use(restartDeviceFlowWithoutSession as Parameters<Provider['use']>[0]);
  provider.use(resumeWithoutQuery as Parameters<Provider['use']>[0]);
  provider.use(httpPostMethods([provider.pathFor('authorization'), provider.pathFor('end_session')]) as Parameters<Provider['use']>[0]);
  provider.use(preciseErrorCodes as Parameters<Provider['use']>[0]);
  provider.use(grantErrorDescriptions(provider) as Parameters<Provider['use']>[0]);
  provider.use(tracedTokenEndpoint(provider.pathFor('token')) as Parameters<Provider['use']>[0]);
  provider.use(tokenResponseScope as Parameters<Provider['use']>[0]);
  // The browser of each signed-in session, for the sessions list on /account.
  provider.use(sessionDeviceRecorder(db) as Parameters<Provider['use']>[0]);
  provider.use(deviceFlowLimits(limiters, config.devicePollInterval) as Parameters<Provider['use']>[0]);
  provider.use(structuredTokenEndpoints(findAccount, jwtTokens, (id) => isAccountActive(db, id), config.defaultResource, introspectionAllowed) as Parameters<Provider['use']>[0]);

  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    logger.error({ err, reqId: ctx.state?.reqId, route: ctx.oidc?.route }, 'oidc-provider server error');
  });

  return { provider, jwtTokens };
}
