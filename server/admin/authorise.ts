// Who may call the admin API (issue 11 §2). Checked on every call, against the
// database, with no cache: a person whose role `admin` is taken away or whose
// account is blocked, or a machine client whose role is taken away, loses access
// at its next call (ASVS 4.1.3 least privilege, 4.2.1 server-side checks).
//
// - An access token this provider issued (./oidc/bearer.ts: a JWT, active, with
//   its DPoP proof when bound) whose audience is ISSUER/admin and whose scope
//   holds `admin` (RFC 9068 §4, RFC 6750 §3.1 insufficient_scope).
// - Issued to a first-party client: ISSUER/admin is granted only to those
//   (server/oidc/resource-servers.ts); one demoted since is refused here too.
// - Held by a person whose account is active and holds the role `admin`, or,
//   for client credentials (no grant, RFC 9068 §2.2 `sub` is the client), by a
//   machine client holding the role `admin` (client_roles).
import type { Context } from 'koa';
import type { Knex } from 'knex';
import { Forbidden, TokenRefused } from '../errors/index.ts';
import { activeAccessToken, grants, type BearerDeps } from '../oidc/bearer.ts';
import { isFirstParty } from '../oidc/operator-metadata.ts';
import { GRANT_CLAIM } from '../oidc/jwt-access-tokens.ts';
import { ADMIN_ROLE, ADMIN_SCOPE } from '../rbac/bootstrap.ts';

export interface Actor {
  /** 'operator': the CLI running these routes in its own process (server/admin/local.ts). */
  kind: 'account' | 'client' | 'operator';
  id: string;
}

export interface AuthoriseDeps extends BearerDeps {
  db: Knex;
  adminResource: string;
}

/** Who presents the token: a person (user-bound token) or the client itself (client credentials). */
export async function identify(ctx: Context, deps: AuthoriseDeps): Promise<{ actor: Actor; clientId: string; scoped: boolean }> {
  const found = await activeAccessToken(ctx, deps);
  const userBound = typeof found.claims[GRANT_CLAIM] === 'string' && typeof found.claims.sub === 'string';
  const actor: Actor = userBound ? { kind: 'account', id: found.claims.sub! } : { kind: 'client', id: found.claims.client_id };
  return { actor, clientId: found.claims.client_id, scoped: grants(found, deps.adminResource, ADMIN_SCOPE) };
}

/** Throws unless the identified caller may use the admin API now. */
export async function requireAdmin(deps: AuthoriseDeps, caller: { actor: Actor; clientId: string; scoped: boolean }): Promise<void> {
  if (!caller.scoped) {
    throw new TokenRefused(403, 'insufficient_scope', `the access token must be for ${deps.adminResource} with the admin scope`, `Bearer error="insufficient_scope", scope="${ADMIN_SCOPE}"`);
  }
  const [client, isAdmin] = await Promise.all([deps.provider.current.Client.find(caller.clientId), holdsAdminRole(deps.db, caller.actor)]);
  if (!isFirstParty(client)) throw new Forbidden('the admin API is only for first-party clients');
  if (!isAdmin) throw new Forbidden('the admin API needs the role admin');
}

async function holdsAdminRole(db: Knex, actor: Actor): Promise<boolean> {
  if (actor.kind === 'client') {
    return !!(await db('client_roles').first('role_name').where({ client_id: actor.id, role_name: ADMIN_ROLE }));
  }
  // A blocked account's tokens are already inactive (jwt-access-tokens.ts); checked here again in the same query.
  const row = await db('accounts as a')
    .first('a.id')
    .join('account_roles as r', 'r.account_id', 'a.id')
    .where({ 'a.id': actor.id, 'a.status': 'active', 'r.role_name': ADMIN_ROLE });
  return !!row;
}
