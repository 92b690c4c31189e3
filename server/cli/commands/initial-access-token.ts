import { parseArgs } from 'node:util';
import { parsing, wholeNumber, type Command } from '../args.ts';
import { DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN } from '../../admin/initial-access-tokens/routes.ts';

export const initialAccessTokenCreate: Command = {
  name: 'initial-access-token create',
  synopsis: '[--expires-in SECONDS]',
  summary: `issue a token for dynamic client registration, RFC 7591 §3 (default lifetime ${DEFAULT_EXPIRES_IN} s)`,
  admin: true,
  parse(args) {
    const { values } = parsing(() => parseArgs({ args, options: { 'expires-in': { type: 'string' } } }));
    const expiresIn =
      values['expires-in'] === undefined ? DEFAULT_EXPIRES_IN : wholeNumber(values['expires-in'], 'expires-in', 1, MAX_EXPIRES_IN);
    return async ({ config, admin }) => {
      const created = (await (await admin())({ method: 'post', path: '/initial-access-tokens', body: { expires_in: expiresIn } })) as { initial_access_token: string; expires_in: number };
      return {
        json: created,
        text: [
          created.initial_access_token,
          `expires in ${created.expires_in} s; register a client with: POST ${config.issuer}/reg and "Authorization: Bearer <token>"`,
        ].join('\n'),
      };
    };
  },
};
