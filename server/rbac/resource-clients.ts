// Which clients are the resource servers of which API resources (RFC 8707):
// they may introspect the tokens issued for them (RFC 7662 §4). SQL only; the
// rule is in server/oidc/token-policies.ts.
import type { Knex } from 'knex';
import { deletedCount } from '../db/deleted-count.ts';

/** Registers a client as a resource server of `resource` (both must exist). */
export async function addResourceClient(db: Knex, resource: string, clientId: string): Promise<void> {
  await db('resource_clients').insert({ resource, client_id: clientId }).onConflict(['resource', 'client_id']).ignore();
}

/** Removes that registration; true if there was one. */
export async function removeResourceClient(db: Knex, resource: string, clientId: string): Promise<boolean> {
  return deletedCount(await db('resource_clients').where({ resource, client_id: clientId }).delete()) > 0;
}

/** The clients registered as resource servers of `resource`. */
export async function resourceClients(db: Knex, resource: string): Promise<string[]> {
  const rows = await db('resource_clients').select('client_id').where({ resource }).orderBy('client_id');
  return rows.map((r: { client_id: string }) => r.client_id);
}

/** The resources a client is registered as the resource server of. */
export async function resourcesServedBy(db: Knex, clientId: string): Promise<string[]> {
  const rows = await db('resource_clients').select('resource').where({ client_id: clientId }).orderBy('resource');
  return rows.map((r: { resource: string }) => r.resource);
}

/** Makes `resources` exactly the resources the client serves (each must exist). */
export async function setResourcesServedBy(db: Knex, clientId: string, resources: string[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('resource_clients').where({ client_id: clientId }).delete();
    if (resources.length) await trx('resource_clients').insert(resources.map((resource) => ({ resource, client_id: clientId })));
  });
}
