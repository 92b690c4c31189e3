// Koa assembly: cross-cutting middleware, our routers, then oidc-provider.
import Koa from 'koa';
import mount from 'koa-mount';
import compose from 'koa-compose';
import type { Knex } from 'knex';
import type { RedisClient } from './redis/connect.ts';
import type Provider from 'oidc-provider';
import type { Config } from './config/index.ts';
import type { Logger } from './logging/logger.ts';
import { errorMiddleware } from './errors/http.ts';
import { contentSecurityPolicy } from './http/content-security-policy.ts';
import { brandPages } from './http/page-frame.ts';
import {
  closeIfBodyUnread, ignoreInvalidOrigin, rejectInvalidHost, rejectNulInQuery, rejectOversizedBodies, requestContext, securityHeaders,
} from './http/request-context.ts';
import { healthRouter } from './health/router.ts';
import { interactionRouter } from './interactions/router.ts';
import type { InteractionDeps } from './interactions/deps.ts';
import { accountRouter } from './self-service/routes.ts';
import { metricsRouter } from './metrics/router.ts';
import { qrPhoneRouter } from './qr/routes.ts';
import { qrAppApi } from './qr/api.ts';
import { deviceQrRouter } from './oidc/device-qr-image.ts';
import type { Metrics } from './metrics/metrics.ts';
import { cookieSigner } from './keys/cookie-signer.ts';
import { adminApi, type AdminDeps } from './admin/router.ts';
import { unsubscribeRouter } from './mailings/unsubscribe-routes.ts';
import { issuerOrigin } from './oidc/issuer-origin.ts';
import { cachedPublicDocuments } from './oidc/public-documents.ts';
import { DISCOVERY_PATHS, publicMetadataCaching } from './oidc/cache-headers.ts';
import { routeKey } from './oidc/route-match.ts';
import { homeRouter } from './home/routes.ts';
import { languageRouter } from './i18n/language-switch.ts';

export function createApp(deps: {
  config: Config;
  logger: Logger;
  db: Knex;
  redis?: RedisClient;
  /** Replaced when signing keys rotate; read on every request. */
  provider: { current: Provider };
  cookieKeys: string[];
  interactions: InteractionDeps;
  metrics: Metrics;
  /** What the admin API needs beyond the interactions' deps. */
  admin: Pick<AdminDeps, 'sealer' | 'adapters' | 'accountModels' | 'refreshSigningKeys'>;
}): Koa {
  const app = new Koa();
  app.proxy = deps.config.trustProxy;
  // ctx.ip is the address the outermost trusted proxy appended to X-Forwarded-For, not
  // the left-most entry, which the client writes (OWASP ASVS V11). oidc-provider runs on
  // this app's context through koa-mount, so its ctx.ip (device-flow limits) reads these too.
  app.maxIpsCount = deps.config.proxyHops;
  app.silent = true;
  // koa-mount runs oidc-provider on this app's context, so its signed cookies use these keys.
  app.keys = cookieSigner(deps.cookieKeys);

  app.use(requestContext(deps.logger, deps.metrics));
  app.use(securityHeaders({ https: deps.config.issuer.startsWith('https:') }));
  app.use(contentSecurityPolicy);
  app.use(brandPages(deps.config.brand));
  app.use(closeIfBodyUnread);
  app.use(errorMiddleware(deps.logger));
  app.use(rejectOversizedBodies);
  app.use(rejectInvalidHost);
  app.use(rejectNulInQuery);
  app.use(ignoreInvalidOrigin);

  // Our routes: paths oidc-provider does not own. The start page and the language switcher's route first.
  const home = homeRouter(deps.config.issuer, deps.provider.current.pathFor('jwks'), deps.config.docsUrl);
  const language = languageRouter(deps.config.issuer.startsWith('https:'));
  const metrics = metricsRouter(deps.metrics, deps.config.metricsToken);
  const health = healthRouter({ db: deps.db, redis: deps.redis });
  const interactions = interactionRouter(deps.interactions);
  const account = accountRouter(deps.interactions);
  const qrPhone = qrPhoneRouter(deps.interactions);
  const qrApi = qrAppApi(deps.interactions);
  const admin = adminApi({ ...deps.interactions, ...deps.admin });
  // Mailings' unsubscribe link and RFC 8058 one-click POST (server/mailings/).
  const unsubscribe = unsubscribeRouter({ db: deps.db, keys: deps.cookieKeys });
  // Router middleware expects its own context additions (params, router), which it sets itself.
  const ourRoutes = compose<Koa.ParameterizedContext<Koa.DefaultState, any>>([
    home.routes(), home.allowedMethods(),
    language.routes(), language.allowedMethods(),
    metrics.routes(),
    health.routes(), health.allowedMethods(),
    interactions.routes(), interactions.allowedMethods(),
    account.routes(), account.allowedMethods(),
    qrPhone.routes(), qrPhone.allowedMethods(),
    deviceQrRouter(deps.config.issuer).routes(),
    qrApi.routes(), qrApi.allowedMethods(),
    admin.routes(), admin.allowedMethods(),
    unsubscribe.routes(), unsubscribe.allowedMethods(),
  ]);
  // The protocol's busiest endpoints are oidc-provider's alone: none of our routers can
  // match them, so a GET or POST for one skips matching against every router above.
  // Other methods still pass them: their allowedMethods() answer 501 for a method no
  // router knows (RFC 9110 §15.6.2), on any path.
  const providerOnly = new Set(
    (['token', 'introspection', 'revocation', 'userinfo', 'jwks'] as const).map((route) => routeKey(deps.provider.current.pathFor(route))),
  );
  for (const path of DISCOVERY_PATHS) providerOnly.add(routeKey(path));
  const onlyTheProvider = (ctx: Koa.Context) => (ctx.method === 'POST' || ctx.method === 'GET') && providerOnly.has(routeKey(ctx.path));
  app.use((ctx, next) => (onlyTheProvider(ctx) ? next() : ourRoutes(ctx, next)));

  // oidc-provider builds its URLs from ISSUER, never from the request's Host (./oidc/issuer-origin.ts).
  app.use(issuerOrigin(app.request, deps.config.issuer));
  app.use(publicMetadataCaching);
  // Discovery and JWKS, built once per provider by oidc-provider (./oidc/public-documents.ts).
  app.use(cachedPublicDocuments(() => deps.provider.current));
  // oidc-provider 9: the Provider is itself a Koa application.
  const mounted = new WeakMap<Provider, Koa.Middleware>();
  app.use((ctx, next) => {
    const provider = deps.provider.current;
    if (!mounted.has(provider)) mounted.set(provider, mount(provider as unknown as Koa));
    return mounted.get(provider)!(ctx, next);
  });
  return app;
}
