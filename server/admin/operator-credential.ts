// The local operator's credential (issue 11 §4), as Keycloak's kcadm.sh talks
// to its admin REST API: in embedded mode the server holds the database alone,
// so the CLI talks to that server's admin API instead. At every start the
// server gives a first-party machine client with the role admin a new secret
// and writes it to DATA_DIR/operator-credential.json, readable by the user who
// runs the server and no one else (mode 0600; whoever can read DATA_DIR can
// read the database anyway). The file goes when the server stops; a file left
// by a killed server holds a secret the next start replaces.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Adapter } from '../../adapters/types.ts';
import { newClientSecret } from '../clients/operator-clients.ts';
import { setClientRoles } from '../rbac/roles.ts';
import { ADMIN_ROLE } from '../rbac/bootstrap.ts';

export const OPERATOR_CLIENT_ID = 'enot-id-operator';
const FILE = 'operator-credential.json';

export interface OperatorCredential {
  /** Where this machine reaches the server (its listening address, not ISSUER: that may be a proxy). */
  url: string;
  client_id: string;
  client_secret: string;
  /** The admin API's resource indicator (RFC 8707): ISSUER/admin of the server, whatever the CLI's ISSUER. */
  admin_resource: string;
  /** The server process, so the CLI can tell a live server's file from a stale one. */
  pid: number;
}

export function credentialPath(dataDir: string): string {
  return path.resolve(dataDir, FILE);
}

/** Registers the operator client with a new secret and writes the file; returns its removal. */
export async function issueOperatorCredential(deps: { db: Knex; clients: Adapter; dataDir: string; url: string; adminResource: string }): Promise<() => void> {
  const secret = newClientSecret();
  await deps.clients.upsert(OPERATOR_CLIENT_ID, {
    client_id: OPERATOR_CLIENT_ID,
    client_name: 'Enot ID command line (this machine)',
    client_secret: secret,
    client_secret_expires_at: 0,
    redirect_uris: [],
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
  }, 0);
  await setClientRoles(deps.db, OPERATOR_CLIENT_ID, [ADMIN_ROLE]);
  const file = credentialPath(deps.dataDir);
  const credential: OperatorCredential = { url: deps.url, client_id: OPERATOR_CLIENT_ID, client_secret: secret, admin_resource: deps.adminResource, pid: process.pid };
  // Written whole or not at all: a CLI never reads half a file.
  const partial = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(partial, `${JSON.stringify(credential)}\n`, { mode: 0o600 });
  renameSync(partial, file);
  return () => rmSync(file, { force: true });
}

/** The credential a running server wrote, or undefined when there is none (or it cannot be read). */
export function readOperatorCredential(dataDir: string): OperatorCredential | undefined {
  try {
    const value = JSON.parse(readFileSync(credentialPath(dataDir), 'utf8')) as Partial<OperatorCredential>;
    if (typeof value.url !== 'string' || typeof value.client_id !== 'string' || typeof value.client_secret !== 'string' || typeof value.admin_resource !== 'string' || typeof value.pid !== 'number') return undefined;
    return value as OperatorCredential;
  } catch {
    return undefined;
  }
}
