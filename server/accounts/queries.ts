// SQL for accounts and their roles; no business rules here.
import type { Knex } from 'knex';
import type { Identifier } from './identifiers.ts';
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
}

const withRoles = (db: Knex) =>
  db('accounts as a')
    .select(
      'a.id', 'a.email', 'a.email_verified_at', 'a.phone', 'a.phone_verified_at', 'a.password_hash', 'a.status',
      db.raw(`coalesce((select array_agg(r.role_name order by r.role_name) from account_roles r where r.account_id = a.id), '{}') as roles`),
    );

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findAccountById(db: Knex, id: string): Promise<AccountRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return withRoles(db).where('a.id', id).first();
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

export async function setPasswordHash(db: Knex, id: string, passwordHash: string): Promise<void> {
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
