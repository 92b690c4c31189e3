// Demo mode's data (issue 12 §2), written at every start and idempotent: a client for
// the sample web app, a client for the orders API (its introspecting resource
// server, RFC 7662 §4), a role that grants the orders permissions, and a demo
// account holding it. Only ever run in demo mode (config.demo), which the
// configuration allows on a local http issuer only (server/config/index.ts).
import type { Knex } from 'knex';
import type { Config } from '../config/index.ts';
import type { Adapter } from '../../adapters/types.ts';
import { newClientSecret } from '../clients/operator-clients.ts';
import { addResourceClient } from '../rbac/resource-clients.ts';
import { addAccountRoles, findRole, grantPermissions, revokePermissions } from '../rbac/roles.ts';
import { findAccountByIdentifier } from '../accounts/queries.ts';
import { createAccount } from '../accounts/create-account.ts';
import { Conflict } from '../errors/index.ts';

export const DEMO_WEB_CLIENT_ID = 'enot-demo-web-app';
export const DEMO_API_CLIENT_ID = 'enot-demo-orders-api';
export const DEMO_EMAIL = 'demo@example.com';
/** Holds orders:write, which the demo takes from the default roles: writing orders is a staff privilege. */
export const DEMO_ROLE = 'orders-clerk';
export const DEMO_SCOPE = 'openid email phone roles offline_access orders:read orders:write';

export type DemoSettings = NonNullable<Config['demo']>;

export interface DemoClients {
  web: { clientId: string; clientSecret: string };
  api: { clientId: string; clientSecret: string };
}

/** Upserts a confidential client, keeping its secret across starts (the sample's sessions survive a restart). */
async function upsertClient(clients: Adapter, clientId: string, metadata: Record<string, unknown>): Promise<string> {
  const existing = await clients.find(clientId);
  const secret = typeof existing?.client_secret === 'string' ? existing.client_secret : newClientSecret();
  await clients.upsert(
    clientId,
    {
      client_id: clientId,
      client_id_issued_at: existing?.client_id_issued_at ?? Math.floor(Date.now() / 1000),
      client_secret: secret,
      client_secret_expires_at: 0,
      token_endpoint_auth_method: 'client_secret_basic',
      ...metadata,
    },
    0,
  );
  return secret;
}

export async function seedDemo(db: Knex, clients: Adapter, config: Pick<Config, 'defaultRoles'>, demo: DemoSettings): Promise<DemoClients> {
  const resource = demo.ordersResource;
  const webSecret = await upsertClient(clients, DEMO_WEB_CLIENT_ID, {
    client_name: 'Enot ID sample app',
    redirect_uris: [`${demo.webAppUrl}/callback`],
    post_logout_redirect_uris: [`${demo.webAppUrl}/`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: DEMO_SCOPE,
  });
  const apiSecret = await upsertClient(clients, DEMO_API_CLIENT_ID, {
    client_name: 'Orders API (demo)',
    redirect_uris: [],
    grant_types: ['client_credentials'],
    response_types: [],
  });
  await addResourceClient(db, resource, DEMO_API_CLIENT_ID);

  // The first demo start (no such role yet) moves orders:write from the default roles
  // to the role, as the README's "Protect your API with roles" describes; later starts
  // leave whatever the operator has changed since.
  if (!(await findRole(db, DEMO_ROLE))) {
    for (const role of config.defaultRoles) await revokePermissions(db, role, resource, ['orders:write']);
  }
  await grantPermissions(db, DEMO_ROLE, resource, ['orders:read', 'orders:write']);

  const account = await findAccountByIdentifier(db, { kind: 'email', value: DEMO_EMAIL });
  if (account) await addAccountRoles(db, account.id, [DEMO_ROLE]);
  else {
    await createAccount(db, { email: DEMO_EMAIL, roles: [DEMO_ROLE] }).catch(async (err: unknown) => {
      // Another demo process on the same database created it meanwhile.
      if (!(err instanceof Conflict)) throw err;
      const created = await findAccountByIdentifier(db, { kind: 'email', value: DEMO_EMAIL });
      if (created) await addAccountRoles(db, created.id, [DEMO_ROLE]);
    });
  }

  return { web: { clientId: DEMO_WEB_CLIENT_ID, clientSecret: webSecret }, api: { clientId: DEMO_API_CLIENT_ID, clientSecret: apiSecret } };
}
