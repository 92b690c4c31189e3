import { parseArgs } from 'node:util';
import { createAccount } from '../../accounts/create-account.ts';
import { normalizeEmail } from '../../accounts/identifiers.ts';
import { list, parsing, required, type Command } from '../args.ts';

export const userCreate: Command = {
  name: 'user create',
  synopsis: '--email E [--password P] [--role R ...]',
  summary: 'create an account with a confirmed email (--role repeats or takes a comma list)',
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({
        args,
        options: {
          email: { type: 'string' },
          password: { type: 'string' },
          role: { type: 'string', multiple: true },
        },
      }),
    );
    const email = required(values.email, 'email');
    const roles = [...new Set(list(values.role))];
    return async ({ runtime }) => {
      const id = await createAccount(runtime.db, { email, password: values.password, roles });
      const stored = normalizeEmail(email);
      return {
        json: { id, email: stored, roles },
        text: `created account ${id} for ${stored}${roles.length ? ` with roles ${roles.join(', ')}` : ''}`,
      };
    };
  },
};
