import type { Knex } from 'knex';
import type { Account, FindAccount } from 'oidc-provider';
import { findAccountWithPermissions, type AccountRow } from '../accounts/queries.ts';

/** OIDC Core §5.1 standard claims plus `roles`, for the scopes that release them. */
export function claimsOf(account: AccountRow) {
  return {
    sub: account.id,
    email: account.email ?? undefined,
    email_verified: account.email ? account.email_verified_at !== null : undefined,
    phone_number: account.phone ?? undefined,
    phone_number_verified: account.phone ? account.phone_verified_at !== null : undefined,
    roles: account.roles,
  };
}

/** An account as oidc-provider sees it, with the scopes its roles grant on each resource. */
export interface TokenAccount extends Account {
  /** The scopes of `resource` this person's roles grant (issue 11; server/oidc/resource-servers.ts). */
  grantedScopes(resource: string): Set<string>;
}

export type FindTokenAccount = (ctx: object, id: string) => Promise<TokenAccount | undefined>;

/**
 * A blocked or missing account is "not found": its grants stop working at once.
 * oidc-provider asks several times within one request (code exchange, ID token,
 * claims, and the resource's scopes for the person); one query per request answers
 * them all.
 */
export function findAccountFor(db: Knex): FindAccount & FindTokenAccount {
  const perRequest = new WeakMap<object, Map<string, Promise<TokenAccount | undefined>>>();
  async function find(id: string): Promise<TokenAccount | undefined> {
    const account = await findAccountWithPermissions(db, id);
    if (!account || account.status !== 'active') return undefined;
    return {
      accountId: account.id,
      claims: () => claimsOf(account),
      grantedScopes: (resource) => new Set(account.permissions.filter(([r]) => r === resource).map(([, scope]) => scope)),
    };
  }
  return (ctx: object, id: string) => {
    let seen = perRequest.get(ctx);
    if (!seen) perRequest.set(ctx, (seen = new Map()));
    let found = seen.get(id);
    if (!found) {
      found = find(id);
      seen.set(id, found);
      // A failed lookup is not remembered: the next ask tries again.
      found.catch(() => seen.delete(id));
    }
    return found;
  };
}
