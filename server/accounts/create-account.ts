import type { Knex } from 'knex';
import { Conflict, InvalidRequest } from '../errors/index.ts';
import { normalizeEmail, type Identifier } from './identifiers.ts';
import { hashPassword } from './passwords.ts';
import { checkNewPassword } from './password-policy.ts';
import { findAccountByIdentifier, insertAccount } from './queries.ts';

import { ROLE_NAME as ROLE } from '../config/index.ts';

/** Creates an account with a confirmed email (for operators: the CLI). Returns its id. */
export async function createAccount(
  db: Knex,
  input: { email: string; password?: string; roles?: string[]; /** ISSUER, whose host the password may not be built on. */ issuer?: string },
): Promise<string> {
  const email = normalizeEmail(input.email);
  const roles = [...new Set(input.roles ?? [])];
  for (const role of roles) {
    if (!ROLE.test(role)) throw new InvalidRequest(`role "${role}" must match ${ROLE.source}`);
  }
  if (input.password !== undefined) await checkNewPassword(input.password, { issuer: input.issuer, identifiers: [email] });
  const identifier: Identifier = { kind: 'email', value: email };
  if (await findAccountByIdentifier(db, identifier)) throw new Conflict('an account with this email already exists');
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  return insertVerifiedAccount(db, { identifier, passwordHash, roles });
}

/** Inserts an account for an identifier the person has just proved; a concurrent duplicate is a Conflict. */
export async function insertVerifiedAccount(
  db: Knex,
  input: { identifier: Identifier; passwordHash: string | null; roles?: string[] },
): Promise<string> {
  try {
    return await db.transaction((trx) => insertAccount(trx, { ...input, roles: input.roles ?? [] }));
  } catch (err) {
    // Another process created the same email between our check and insert.
    if ((err as { code?: string }).code === '23505') throw new Conflict('an account with this email or phone already exists');
    throw err;
  }
}
