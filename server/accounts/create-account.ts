import type { Knex } from 'knex';
import { Conflict, InvalidRequest } from '../errors/index.ts';
import { normalizeEmail } from './identifiers.ts';
import { hashPassword } from './passwords.ts';
import { findAccountByEmail, insertAccount } from './queries.ts';

const ROLE = /^[a-z][a-z0-9_:.-]{0,63}$/;

// NIST SP 800-63B §5.1.1.2: at least 8 characters, at most 64 need be accepted; no composition rules.
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** Creates an account with a confirmed email (for operators: the CLI). Returns its id. */
export async function createAccount(
  db: Knex,
  input: { email: string; password?: string; roles?: string[] },
): Promise<string> {
  const email = normalizeEmail(input.email);
  const roles = [...new Set(input.roles ?? [])];
  for (const role of roles) {
    if (!ROLE.test(role)) throw new InvalidRequest(`role "${role}" must match ${ROLE.source}`);
  }
  if (input.password !== undefined && (input.password.length < PASSWORD_MIN || input.password.length > PASSWORD_MAX)) {
    throw new InvalidRequest(`password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
  }
  if (await findAccountByEmail(db, email)) throw new Conflict('an account with this email already exists');
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  try {
    return await db.transaction((trx) => insertAccount(trx, { email, emailVerified: true, passwordHash, roles }));
  } catch (err) {
    // Another process created the same email between our check and insert.
    if ((err as { code?: string }).code === '23505') throw new Conflict('an account with this email already exists');
    throw err;
  }
}
