// Creating, changing and deleting accounts as an operator (the admin API):
// identifiers normalised as at sign-up, the password policy applied, a taken
// email or phone a Conflict naming the account that holds it.
import type { Knex } from 'knex';
import { AppError, Conflict, InvalidRequest } from '../../errors/index.ts';
import { normalizeEmail, normalizePhone, type Identifier } from '../../accounts/identifiers.ts';
import { checkNewPassword } from '../../accounts/password-policy.ts';
import { hashPassword } from '../../accounts/passwords.ts';
import { clearIdentifier, findAccountByIdentifier, insertAccount, setIdentifier } from '../../accounts/queries.ts';

/** The normalised identifier, or 400 naming the field. */
export function identifierOf(kind: Identifier['kind'], value: string, defaultRegion: string): Identifier {
  try {
    return kind === 'email' ? { kind, value: normalizeEmail(value) } : { kind, value: normalizePhone(value, defaultRegion) };
  } catch (err) {
    if (err instanceof AppError) throw new InvalidRequest(`body.${kind}: ${err.description}`);
    throw err;
  }
}

async function ensureFree(db: Knex, identifier: Identifier, self?: string): Promise<void> {
  const holder = await findAccountByIdentifier(db, identifier);
  if (holder && holder.id !== self) throw new Conflict(`an account with this ${identifier.kind} exists`, holder.id);
}

/** A concurrent duplicate (unique index, SQLSTATE 23505) is a Conflict too. */
async function unique<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new Conflict('an account with this email or phone exists');
    throw err;
  }
}

export async function createAccountAsOperator(
  db: Knex,
  input: { identifiers: Identifier[]; password?: string; roles: string[] },
): Promise<string> {
  for (const identifier of input.identifiers) await ensureFree(db, identifier);
  if (input.password !== undefined) await checkNewPassword(input.password);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  const [first, ...rest] = input.identifiers;
  // Identifiers an operator enters count as confirmed, as with `enot-id user create`.
  return unique(() =>
    db.transaction(async (trx) => {
      const id = await insertAccount(trx, { identifier: first!, passwordHash, roles: input.roles });
      for (const identifier of rest) await setIdentifier(trx, id, identifier);
      return id;
    }),
  );
}

/** Sets (a value) or removes (null) the email and phone; one must remain. */
export async function changeIdentifiers(
  db: Knex,
  account: { id: string; email: string | null; phone: string | null },
  change: { email?: Identifier | null; phone?: Identifier | null },
): Promise<void> {
  const email = change.email === undefined ? account.email : change.email?.value ?? null;
  const phone = change.phone === undefined ? account.phone : change.phone?.value ?? null;
  if (!email && !phone) throw new InvalidRequest('body: an account keeps an email or a phone');
  for (const identifier of [change.email, change.phone]) if (identifier) await ensureFree(db, identifier, account.id);
  await unique(() =>
    db.transaction(async (trx) => {
      for (const kind of ['email', 'phone'] as const) {
        const value = change[kind];
        if (value === null) await clearIdentifier(trx, account.id, kind);
        else if (value) await setIdentifier(trx, account.id, value);
      }
    }),
  );
}
