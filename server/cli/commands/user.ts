// `enot-id user ...`: accounts, through the admin API (../admin.ts). An account
// is named by its id, its email or its phone number.
import { parseArgs } from 'node:util';
import type { Config } from '../../config/index.ts';
import { AppError } from '../../errors/index.ts';
import { normalizeEmail, normalizePhone } from '../../accounts/identifiers.ts';
import type { AdminCaller } from '../../admin/local.ts';
import { list, parsing, UsageError, wholeNumber, type Command, type Output } from '../args.ts';
import { fields, listing } from '../output.ts';

type Account = Record<string, unknown> & { id: string; roles: string[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACCOUNT_FIELDS = ['id', 'email', 'email_verified', 'phone', 'phone_verified', 'status', 'roles', 'has_password', 'created_at'];

/** All of standard input, less one line ending: `printf '%s\n' "$PW" | enot-id user create …`. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The id of the account an operator named by id, email or phone (normalised as at sign-up). */
async function accountId(admin: AdminCaller, config: Config, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref.toLowerCase();
  const byEmail = ref.includes('@');
  let value: string;
  try {
    value = byEmail ? normalizeEmail(ref) : normalizePhone(ref, config.defaultPhoneRegion);
  } catch (err) {
    if (err instanceof AppError) throw new UsageError(`"${ref}" is not an account id, email or phone number: ${err.description}`);
    throw err;
  }
  const page = (await admin({ method: 'get', path: '/accounts', query: byEmail ? { email: value, limit: '200' } : { phone: value, limit: '200' } })) as { items: Account[] };
  // The stored spelling first; then any case, as sign-in matches emails (accounts/identifiers.ts).
  const found = page.items.find((a) => (byEmail ? a.email === value : a.phone === value))
    ?? (byEmail ? page.items.find((a) => String(a.email).toLowerCase() === value.toLowerCase()) : undefined);
  if (!found) throw new AppError(404, 'not_found', `no account with ${byEmail ? 'email' : 'phone'} ${value}`);
  return found.id;
}

const accountOutput = (account: Account, headline?: string): Output => ({
  json: account,
  text: [...(headline ? [headline] : []), fields(account, ACCOUNT_FIELDS)].join('\n'),
});

/** A command on one named account: `user <verb> <account>`. */
function onAccount(name: string, summary: string, act: (admin: AdminCaller, id: string) => Promise<Output>): Command {
  return {
    name, synopsis: '<id | email | phone>', summary, admin: true,
    parse(args) {
      const { positionals } = parsing(() => parseArgs({ args, options: {}, allowPositionals: true }));
      if (positionals.length !== 1) throw new UsageError(`${name} takes exactly one account (its id, email or phone)`);
      return async ({ admin, config }) => {
        const caller = await admin();
        return act(caller, await accountId(caller, config, positionals[0]!));
      };
    },
  };
}

export const userCreate: Command = {
  name: 'user create',
  synopsis: '(--email E | --phone P) [--password-stdin | --password P] [--role R ...]',
  summary: 'create an account with a confirmed email and/or phone (--password-stdin reads the password from standard input, keeping it out of the process list; each role must exist; every account also gets DEFAULT_ROLES)',
  admin: true,
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({
        args,
        options: {
          email: { type: 'string' },
          phone: { type: 'string' },
          password: { type: 'string' },
          'password-stdin': { type: 'boolean' },
          role: { type: 'string', multiple: true },
        },
      }),
    );
    if (values.email === undefined && values.phone === undefined) throw new UsageError('--email or --phone is required');
    const roles = [...new Set(list(values.role))];
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
    return async ({ admin }) => {
      const password = values['password-stdin'] ? await passwordFromStdin() : values.password;
      const account = (await (await admin())({
        method: 'post', path: '/accounts',
        body: { ...(values.email !== undefined ? { email: values.email } : {}), ...(values.phone !== undefined ? { phone: values.phone } : {}), ...(password !== undefined ? { password } : {}), roles },
      })) as Account;
      return accountOutput(account, `created account ${account.id}`);
    };
  },
};

export const userList: Command = {
  name: 'user list',
  synopsis: '[--email TEXT] [--phone +DIGITS] [--limit N] [--cursor C]',
  summary: 'accounts in id order: those whose email contains TEXT or whose phone starts with the digits; --cursor continues after next_cursor',
  admin: true,
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({ args, options: { email: { type: 'string' }, phone: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } } }),
    );
    const limit = values.limit === undefined ? undefined : String(wholeNumber(values.limit, 'limit', 1, 200));
    // Typed as people write numbers: "+1 555-555 0100" searches for +15555550100.
    const phone = values.phone?.replace(/[\s().-]/g, '');
    return async ({ admin }) => {
      const page = (await (await admin())({ method: 'get', path: '/accounts', query: { email: values.email, phone, limit, cursor: values.cursor } })) as { items: Account[]; next_cursor: string | null };
      const text = listing(page.items, ['id', 'email', 'phone', 'status', 'roles'], 'no accounts');
      return {
        json: { accounts: page.items, next_cursor: page.next_cursor },
        text: page.next_cursor ? `${text}\nmore: --cursor ${page.next_cursor}` : text,
      };
    };
  },
};

export const userShow = onAccount('user show', 'one account', async (admin, id) =>
  accountOutput((await admin({ method: 'get', path: '/accounts/:id', params: { id } })) as Account));

export const userBlock = onAccount('user block', 'block an account: it cannot sign in, and its sessions and tokens stop at once', async (admin, id) =>
  accountOutput((await admin({ method: 'post', path: '/accounts/:id/block', params: { id } })) as Account, `blocked account ${id}`));

export const userUnblock = onAccount('user unblock', 'unblock an account: it may sign in again', async (admin, id) =>
  accountOutput((await admin({ method: 'post', path: '/accounts/:id/unblock', params: { id } })) as Account, `unblocked account ${id}`));

export const userSignOut = onAccount('user sign-out', 'end every session and grant of an account (its tokens stop); it may sign in again', async (admin, id) => {
  await admin({ method: 'post', path: '/accounts/:id/sessions/revoke', params: { id } });
  return { json: { signed_out: id }, text: `ended every session and grant of account ${id}` };
});

export const userDelete = onAccount('user delete', 'delete an account with every session, grant and token it held', async (admin, id) => {
  await admin({ method: 'delete', path: '/accounts/:id', params: { id } });
  return { json: { deleted: id }, text: `deleted account ${id}` };
});

export const userUpdate: Command = {
  name: 'user update',
  synopsis: '<id | email | phone> [--email E | --no-email] [--phone P | --no-phone]',
  summary: 'set (taken as confirmed) or remove an account\'s email and phone; one must remain',
  admin: true,
  parse(args) {
    const { values, positionals } = parsing(() =>
      parseArgs({
        args, allowPositionals: true,
        options: { email: { type: 'string' }, 'no-email': { type: 'boolean' }, phone: { type: 'string' }, 'no-phone': { type: 'boolean' } },
      }),
    );
    if (positionals.length !== 1) throw new UsageError('user update takes exactly one account (its id, email or phone)');
    if (values.email !== undefined && values['no-email']) throw new UsageError('give --email or --no-email, not both');
    if (values.phone !== undefined && values['no-phone']) throw new UsageError('give --phone or --no-phone, not both');
    const body = {
      ...(values.email !== undefined ? { email: values.email } : values['no-email'] ? { email: null } : {}),
      ...(values.phone !== undefined ? { phone: values.phone } : values['no-phone'] ? { phone: null } : {}),
    };
    if (!Object.keys(body).length) throw new UsageError('nothing to change: give --email, --no-email, --phone or --no-phone');
    return async ({ admin, config }) => {
      const caller = await admin();
      const id = await accountId(caller, config, positionals[0]!);
      return accountOutput((await caller({ method: 'patch', path: '/accounts/:id', params: { id }, body })) as Account, `updated account ${id}`);
    };
  },
};

/** `user roles add|remove <account> <role ...>`: the account's roles, read and replaced. */
function rolesChange(verb: 'add' | 'remove'): Command {
  const name = `user roles ${verb}`;
  return {
    name, synopsis: '<id | email | phone> <role> ...', admin: true,
    summary: verb === 'add' ? 'give an account roles (each must exist); its next token carries them' : 'take roles from an account; the admin API notices at once, tokens at their next issue',
    parse(args) {
      const { positionals } = parsing(() => parseArgs({ args, options: {}, allowPositionals: true }));
      if (positionals.length < 2) throw new UsageError(`${name} takes an account and at least one role`);
      const [ref, ...given] = positionals;
      const roles = [...new Set(list(given))];
      return async ({ admin, config }) => {
        const caller = await admin();
        const id = await accountId(caller, config, ref!);
        const account = (await caller({ method: 'get', path: '/accounts/:id', params: { id } })) as Account;
        const next = verb === 'add' ? [...new Set([...account.roles, ...roles])] : account.roles.filter((r) => !roles.includes(r));
        const updated = (await caller({ method: 'put', path: '/accounts/:id/roles', params: { id }, body: { roles: next } })) as Account;
        return accountOutput(updated, `account ${id} holds: ${updated.roles.join(', ') || '(no roles)'}`);
      };
    },
  };
}

export const userRolesAdd = rolesChange('add');
export const userRolesRemove = rolesChange('remove');

export const userCommands = [userCreate, userList, userShow, userUpdate, userBlock, userUnblock, userSignOut, userDelete, userRolesAdd, userRolesRemove];
