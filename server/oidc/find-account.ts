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

/** A blocked or missing account is "not found": its grants stop working at once. */
export function findAccountFor(db: Knex): FindAccount {
  return async (_ctx, id): Promise<Account | undefined> => {
    const account = await findAccountById(db, id);
    if (!account || account.status !== 'active') return undefined;
    return { accountId: account.id, claims: () => claimsOf(account) };
  };
}
