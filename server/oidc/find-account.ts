import type { Knex } from 'knex';
import type { Account, FindAccount } from 'oidc-provider';
import { findAccountById, type AccountRow } from '../accounts/queries.ts';

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

/**
 * A blocked or missing account is "not found": its grants stop working at once.
 * oidc-provider asks several times within one request (code exchange, ID token,
 * claims); one query per request answers them all.
 */
export function findAccountFor(db: Knex): FindAccount {
  const perRequest = new WeakMap<object, Map<string, Promise<Account | undefined>>>();
  async function find(id: string): Promise<Account | undefined> {
    const account = await findAccountById(db, id);
    if (!account || account.status !== 'active') return undefined;
    return { accountId: account.id, claims: () => claimsOf(account) };
  }
  return (ctx, id) => {
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
