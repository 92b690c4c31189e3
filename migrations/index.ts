// The ordered list of migrations. Listed explicitly (not scanned from disk)
// so the same code runs from source, from the CLI and from tests.
import type { Knex } from 'knex';
import * as accounts from './001-accounts.ts';
import * as roles from './002-roles.ts';
import * as clients from './003-clients.ts';
import * as signingKeys from './004-signing-keys.ts';
import * as serverSecrets from './005-server-secrets.ts';
import * as oidcModels from './006-oidc-models.ts';

export const migrations: ReadonlyArray<readonly [string, Knex.Migration]> = [
  ['001-accounts', accounts],
  ['002-roles', roles],
  ['003-clients', clients],
  ['004-signing-keys', signingKeys],
  ['005-server-secrets', serverSecrets],
  ['006-oidc-models', oidcModels],
];
