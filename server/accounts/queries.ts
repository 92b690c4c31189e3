// SQL for accounts and their roles; no business rules here.
import type { Knex } from 'knex';
import type { Identifier } from './identifiers.ts';
import type { Locale } from '../i18n/locale.ts';
import { Conflict } from '../errors/index.ts';

export interface AccountRow {
  id: string;
  email: string | null;
  email_verified_at: Date | null;
  phone: string | null;
  phone_verified_at: Date | null;
  password_hash: string | null;
  status: 'active' | 'blocked';
  roles: string[];
  created_at: Date;
  /** The language chosen on /account for the messages sent to the person; null: none chosen. */
  locale: Locale | null;
}

const withRoles = (db: Knex) =>
  db('accounts as a')
    .select(
      'a.id', 'a.email', 'a.email_verified_at', 'a.phone', 'a.phone_verified_at', 'a.password_hash', 'a.status', 'a.created_at', 'a.locale',
      db.raw(`coalesce((select array_agg(r.role_name order by r.role_name) from account_roles r where r.account_id = a.id), '{}') as roles`),
    );

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findAccountById(db: Knex, id: string): Promise<AccountRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return withRoles(db).where('a.id', id).first();
}

/** An account with the permissions its roles grant, as `[resource, scope]` pairs. */
export interface AccountWithPermissions extends AccountRow {
  permissions: [resource: string, scope: string][];
}

/**
 * The account, its roles and every permission those roles grant, in one statement:
 * what oidc-provider needs to issue a person's token (the claims, and the scopes of
 * the resource the token is for, server/oidc/resource-servers.ts). Read per request,
 * so a change of roles applies to the next token.
 */
export async function findAccountWithPermissions(db: Knex, id: string): Promise<AccountWithPermissions | undefined> {
  if (!UUID.test(id)) return undefined;
  return withRoles(db)
    .select(db.raw(`coalesce((select json_agg(json_build_array(p.resource, p.scope)) from (
      select distinct rp.resource, rp.scope from account_roles r join role_permissions rp on rp.role_name = r.role_name where r.account_id = a.id
    ) p), '[]') as permissions`))
    .where('a.id', id)
    .first();
}

export async function findAccountByEmail(db: Knex, email: string): Promise<AccountRow | undefined> {
  return withRoles(db).whereRaw('lower(a.email) = lower(?)', [email]).first();
}

export async function findAccountByPhone(db: Knex, phone: string): Promise<AccountRow | undefined> {
  return withRoles(db).where('a.phone', phone).first();
}

/** By a normalised identifier (see identifiers.ts). */
export async function findAccountByIdentifier(db: Knex, identifier: Identifier): Promise<AccountRow | undefined> {
  return identifier.kind === 'email' ? findAccountByEmail(db, identifier.value) : findAccountByPhone(db, identifier.value);
}

/** Sets the password's hash; null removes the password (sign-in by code only). */
export async function setPasswordHash(db: Knex, id: string, passwordHash: string | null): Promise<void> {
  await db('accounts').where({ id }).update({ password_hash: passwordHash, updated_at: db.fn.now() });
}

/** Records that the person proved they hold this email or phone. */
export async function markIdentifierVerified(db: Knex, id: string, identifier: Identifier): Promise<void> {
  const column = identifier.kind === 'email' ? 'email_verified_at' : 'phone_verified_at';
  await db('accounts').where({ id }).update({ [column]: db.fn.now(), updated_at: db.fn.now() });
}

/** Sets (or replaces) the account's email or phone, as just confirmed; a taken one is a Conflict. */
export async function setIdentifier(db: Knex, id: string, identifier: Identifier): Promise<void> {
  const values = identifier.kind === 'email'
    ? { email: identifier.value, email_verified_at: db.fn.now() }
    : { phone: identifier.value, phone_verified_at: db.fn.now() };
  try {
    await db('accounts').where({ id }).update({ ...values, updated_at: db.fn.now() });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new Conflict('this email or phone belongs to another account');
    throw err;
  }
}

/** The language of the messages sent to the person; null: the page's language at the time. */
export async function setAccountLocale(db: Knex, id: string, locale: Locale | null): Promise<void> {
  await db('accounts').where({ id }).update({ locale, updated_at: db.fn.now() });
}

export async function isAccountActive(db: Knex, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const row = await db('accounts').first('status').where({ id });
  return row?.status === 'active';
}

/** Inserts an account whose identifier has been verified; returns its id. */
export async function insertAccount(
  trx: Knex,
  input: { identifier: Identifier; passwordHash: string | null; roles: string[] },
): Promise<string> {
  const { identifier } = input;
  const [row] = await trx('accounts')
    .insert(
      identifier.kind === 'email'
        ? { email: identifier.value, email_verified_at: trx.fn.now(), password_hash: input.passwordHash }
        : { phone: identifier.value, phone_verified_at: trx.fn.now(), password_hash: input.passwordHash },
    )
    .returning('id');
  const id = row.id as string;
  if (input.roles.length) {
    await trx('roles').insert(input.roles.map((name) => ({ name }))).onConflict('name').ignore();
    await trx('account_roles').insert(input.roles.map((role_name) => ({ account_id: id, role_name })));
  }
  // Every new account gets the default roles (DEFAULT_ROLES, marked in `roles` at start).
  await trx.raw(
    `insert into account_roles (account_id, role_name) select ?, name from roles where is_default on conflict do nothing`,
    [id],
  );
  return id;
}

/** `%` and `_` match themselves in a LIKE pattern built from `text`. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * A page of accounts in id order, after the id `after`: those whose email
 * contains `email` (any case) and whose phone starts with `phone`.
 */
export async function listAccounts(
  db: Knex,
  filter: { email?: string; phone?: string; after?: string; limit: number },
): Promise<AccountRow[]> {
  const query = withRoles(db).orderBy('a.id').limit(filter.limit);
  if (filter.email) query.whereRaw(`lower(a.email) like ? escape '\\'`, [`%${likeLiteral(filter.email.toLowerCase())}%`]);
  if (filter.phone) query.whereRaw(`a.phone like ? escape '\\'`, [`${likeLiteral(filter.phone)}%`]);
  if (filter.after) query.where('a.id', '>', filter.after);
  return query;
}

/** Sets an account's status; false when there is no such account. */
export async function setAccountStatus(db: Knex, id: string, status: AccountRow['status']): Promise<boolean> {
  if (!UUID.test(id)) return false;
  return (await db('accounts').where({ id }).update({ status, updated_at: db.fn.now() })) > 0;
}

/** Removes the account's email or phone (an operator's correction; the other identifier must remain). */
export async function clearIdentifier(db: Knex, id: string, kind: Identifier['kind']): Promise<void> {
  const values = kind === 'email' ? { email: null, email_verified_at: null } : { phone: null, phone_verified_at: null };
  await db('accounts').where({ id }).update({ ...values, updated_at: db.fn.now() });
}

/**
 * Deletes an account with its roles, flows and QR logins (ON DELETE CASCADE); false when there is none.
 * What outlives it keeps no address (issue 13 §1: no personal data left): its mailing
 * recipient rows (kept for the mailing's counts) lose their email, and a hard bounce
 * recorded for its email is forgotten.
 */
export async function deleteAccount(db: Knex, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  return db.transaction(async (trx) => {
    const [gone] = (await trx('accounts').where({ id }).delete(['email'])) as Array<{ email: string | null }>;
    if (!gone) return false;
    await trx('mailing_recipients').where({ account_id: id }).whereNotNull('email').update({ email: null });
    if (gone.email) await trx('mail_bounces').where({ address: gone.email.toLowerCase() }).delete();
    return true;
  });
}
