import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { Delivery } from '../delivery/types.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { createCodes } from '../verification/codes.ts';
import type { createLimiters } from '../rate-limit/limiters.ts';
import type { FlowStore } from '../flows/flow.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { JwtAccessTokens } from '../oidc/jwt-access-tokens.ts';
import type { QrLogins } from '../qr/qr-login.ts';
import type { PasswordAttempts } from '../verification/password-attempts.ts';
import type { AdapterFactory } from '../../adapters/types.ts';
import type { Runtime } from '../runtime.ts';

/** What the browser flows need; built once in server.ts. */
export interface InteractionDeps {
  /** Read on every request: replaced when signing keys rotate. */
  provider: { current: Provider; accessTokens: JwtAccessTokens };
  db: Knex;
  config: Config;
  csrfSecret: string;
  codes: ReturnType<typeof createCodes>;
  limiters: ReturnType<typeof createLimiters>;
  passwordAttempts: PasswordAttempts;
  delivery: Delivery;
  /** The durable job queue: security notices are queued, never sent inside a request (server/notifications/). */
  jobs: JobQueue;
  flows: FlowStore;
  qr: QrLogins;
  revokeAccount(accountId: string): Promise<void>;
  /** An account's live sessions or grants, wherever stored (the /account sessions list). */
  accountModels: Runtime['accountModels'];
  adapters: AdapterFactory;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
}
