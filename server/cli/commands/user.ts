import { parseArgs } from 'node:util';
import { findAccountById } from '../../accounts/queries.ts';
import { createAccount } from '../../accounts/create-account.ts';
import { normalizeEmail } from '../../accounts/identifiers.ts';
import { list, parsing, required, UsageError, type Command } from '../args.ts';

/** All of standard input, less one line ending: `printf '%s\n' "$PW" | enot-id user create …`. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const userCreate: Command = {
  name: 'user create',
  synopsis: '--email E [--password-stdin | --password P] [--role R ...]',
  summary: 'create an account with a confirmed email (--password-stdin reads the password from standard input, keeping it out of the process list; --role repeats or takes a comma list)',
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({
        args,
        options: {
          email: { type: 'string' },
          password: { type: 'string' },
          'password-stdin': { type: 'boolean' },
          role: { type: 'string', multiple: true },
        },
      }),
    );
    const email = required(values.email, 'email');
    const roles = [...new Set(list(values.role))];
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both');
    return async ({ runtime }) => {
      const password = values['password-stdin'] ? await passwordFromStdin() : values.password;
      const id = await createAccount(runtime.db, { email, password, roles, issuer: runtime.config.issuer });
      const stored = normalizeEmail(email);
      // What the account holds: the roles asked for and the default roles (DEFAULT_ROLES).
      const held = (await findAccountById(runtime.db, id))?.roles ?? roles;
      return {
        json: { id, email: stored, roles: held },
        text: `created account ${id} for ${stored}${held.length ? ` with roles ${held.join(', ')}` : ''}`,
      };
    };
  },
};
