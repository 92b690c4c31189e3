// The admin API (issue 11 §2, §3) under /api/admin: every route is declared
// once (./guard.ts) and listed here, folder per resource; the same list is
// served as the OpenAPI document at /api/admin/openapi.json.
import type Router from '@koa/router';
import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { JwtAccessTokens } from '../oidc/jwt-access-tokens.ts';
import { adminRouter, type AnyRoute } from './guard.ts';
import { openApiDocument } from './openapi.ts';
import type { Sealer } from '../keys/sealed-secrets.ts';
import type { Runtime } from '../runtime.ts';
import type { AdapterFactory } from '../../adapters/types.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../logging/logger.ts';
import type { Limiters } from '../rate-limit/limiters.ts';
import { accountRoutes } from './accounts/routes.ts';
import { sessionRoutes } from './accounts/sessions.ts';
import { keyRoutes } from './keys/routes.ts';
import { clientRoutes } from './clients/routes.ts';
import { auditRoutes } from './audit/routes.ts';
import { roleRoutes } from './roles/routes.ts';
import { resourceRoutes } from './resources/routes.ts';
import { initialAccessTokenRoutes } from './initial-access-tokens/routes.ts';
import { mailingRoutes } from './mailings/routes.ts';

export interface AdminDeps {
  provider: { current: Provider; accessTokens: JwtAccessTokens };
  db: Knex;
  config: Config;
  revokeAccount(accountId: string): Promise<void>;
  sealer: Sealer;
  accountModels: Runtime['accountModels'];
  /** oidc-provider's storage (runtime.adapters): clients go through the same adapter as the CLI's and RFC 7592's. */
  adapters: AdapterFactory;
  /** The durable job queue: security notices, mailings (server/jobs/). */
  jobs: JobQueue;
  logger: Logger;
  /** Makes this process sign with new keys at once (others notice within a minute). */
  refreshSigningKeys(): Promise<boolean>;
  /** Shared rate limits; over HTTP, refused calls are limited per address (ADMIN_REFUSALS). Not needed in the CLI's process. */
  limiters?: Limiters;
}

/**
 * Refused calls (401, 403) per client address: each one is audited, so an
 * unlimited flood of bad tokens would grow the audit log without end. Past the
 * limit they are answered 429 (with Retry-After) and not recorded one by one
 * (the rate-limit metric counts them). Calls with a valid admin token are never
 * limited: an operator's script behind the same address keeps working.
 * OWASP ASVS 4.0.3 V11.1.4 (anti-automation against excessive calls) and V7.1
 * (logging that an attacker cannot use to exhaust storage); keyed on ctx.ip, the
 * address the outermost trusted proxy saw (TRUST_PROXY_HOPS), which the caller cannot write.
 */
export const ADMIN_REFUSALS = { points: 100, windowSeconds: 15 * 60 };

export function adminRoutes(deps: AdminDeps): AnyRoute[] {
  return [...accountRoutes(deps), ...sessionRoutes(deps), ...roleRoutes(deps.db), ...resourceRoutes(deps.db, deps.config),
    ...clientRoutes(deps), ...keyRoutes(deps), ...auditRoutes(deps.db), ...initialAccessTokenRoutes(deps), ...mailingRoutes(deps)];
}

export function adminApi(deps: AdminDeps): Router {
  const routes = adminRoutes(deps);
  const document = openApiDocument(routes, deps.config.issuer);
  return adminRouter(
    routes,
    {
      provider: deps.provider, issuer: deps.config.issuer, db: deps.db, adminResource: deps.config.adminApiResource,
      refusals: deps.limiters?.custom('admin-refusals-ip', ADMIN_REFUSALS.points, ADMIN_REFUSALS.windowSeconds),
    },
    (router) => {
      // Public, as a discovery document is: it says what exists, not what anyone holds.
      router.get('/openapi.json', (ctx) => {
        ctx.body = document;
      });
    },
  );
}
