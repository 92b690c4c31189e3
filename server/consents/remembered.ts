// Consent remembered per person and client, across browsers (issue 12 §4):
// SQL only. oidc-provider's grants live per browser session; these rows let a
// new session's grant be made from what the person already allowed
// (server/oidc/existing-grant.ts).
import type { Knex } from 'knex';

/** What a person allowed a client: OpenID Connect scopes and claims, and each API's scopes (RFC 8707). */
export interface Consent {
  scopes: string[];
  claims: string[];
  /** Resource indicator → scopes of that API. */
  resources: Record<string, string[]>;
}

/** The resource of OpenID Connect scopes and claims in the table. */
const OPENID = '';

interface Row {
  resource: string;
  kind: 'scope' | 'claim';
  name: string;
}

function rowsOf(consent: Consent): Row[] {
  return [
    ...consent.scopes.map((name) => ({ resource: OPENID, kind: 'scope' as const, name })),
    ...consent.claims.map((name) => ({ resource: OPENID, kind: 'claim' as const, name })),
    ...Object.entries(consent.resources).flatMap(([resource, scopes]) => scopes.map((name) => ({ resource, kind: 'scope' as const, name }))),
  ].filter((row) => row.name);
}

/** Adds to what the person allowed the client. An account or client deleted meanwhile has nothing to remember. */
export async function rememberConsent(db: Knex, accountId: string, clientId: string, consent: Consent): Promise<void> {
  const rows = rowsOf(consent);
  if (!rows.length) return;
  try {
    await db('remembered_consents')
      .insert(rows.map((row) => ({ account_id: accountId, client_id: clientId, ...row })))
      .onConflict(['account_id', 'client_id', 'resource', 'kind', 'name'])
      .ignore();
  } catch (err) {
    // 23503 foreign_key_violation: the account or the client is gone.
    if ((err as { code?: string }).code !== '23503') throw err;
  }
}

/** Everything the person allowed the client so far. */
export async function rememberedConsent(db: Knex, accountId: string, clientId: string): Promise<Consent> {
  const rows = (await db('remembered_consents').select('resource', 'kind', 'name').where({ account_id: accountId, client_id: clientId })) as Row[];
  const consent: Consent = { scopes: [], claims: [], resources: {} };
  for (const { resource, kind, name } of rows) {
    if (resource !== OPENID) (consent.resources[resource] ??= []).push(name);
    else if (kind === 'claim') consent.claims.push(name);
    else consent.scopes.push(name);
  }
  return consent;
}

/** Forgets what the person allowed one client, or every client. */
export async function forgetConsent(db: Knex, accountId: string, clientId?: string): Promise<void> {
  await db('remembered_consents').where({ account_id: accountId, ...(clientId === undefined ? {} : { client_id: clientId }) }).delete();
}
