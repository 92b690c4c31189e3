// The ordered list of migrations. Listed explicitly (not scanned from disk)
// so the same code runs from source, from the CLI and from tests.
import type { Knex } from 'knex';
import * as accounts from './001-accounts.ts';
import * as roles from './002-roles.ts';
import * as clients from './003-clients.ts';
import * as signingKeys from './004-signing-keys.ts';
import * as serverSecrets from './005-server-secrets.ts';
import * as oidcModels from './006-oidc-models.ts';
import * as verificationCodes from './007-verification-codes.ts';
import * as rateLimits from './008-rate-limits.ts';
import * as accountIndex from './009-oidc-models-account-index.ts';
import * as flows from './010-flows.ts';
import * as flowsBoundTo from './011-flows-bound-to.ts';
import * as qrLogins from './012-qr-logins.ts';
import * as knownDevices from './013-known-devices.ts';
import * as flowsReauth from './014-flows-reauth.ts';
import * as rbac from './015-rbac.ts';
import * as auditLog from './016-audit-log.ts';
import * as resourceServersClients from './017-resource-servers-clients.ts';
import * as auditOperatorActor from './018-audit-operator-actor.ts';
import * as rememberedConsents from './019-remembered-consents.ts';
import * as accountSelfService from './020-account-self-service.ts';
import * as mailings from './021-mailings.ts';
import * as adminIdempotencyKeys from './022-admin-idempotency-keys.ts';

export const migrations: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['001-accounts', accounts],
  ['002-roles', roles],
  ['003-clients', clients],
  ['004-signing-keys', signingKeys],
  ['005-server-secrets', serverSecrets],
  ['006-oidc-models', oidcModels],
  ['007-verification-codes', verificationCodes],
  ['008-rate-limits', rateLimits],
  ['009-oidc-models-account-index', accountIndex],
  ['010-flows', flows],
  ['011-flows-bound-to', flowsBoundTo],
  ['012-qr-logins', qrLogins],
  ['013-known-devices', knownDevices],
  ['014-flows-reauth', flowsReauth],
  ['015-rbac', rbac],
  ['016-audit-log', auditLog],
  ['017-resource-servers-clients', resourceServersClients],
  ['018-audit-operator-actor', auditOperatorActor],
  ['019-remembered-consents', rememberedConsents],
  ['020-account-self-service', accountSelfService],
  ['021-mailings', mailings],
  ['022-admin-idempotency-keys', adminIdempotencyKeys],
];
