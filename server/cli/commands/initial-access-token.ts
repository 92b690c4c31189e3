import { parseArgs } from 'node:util';
import { parsing, wholeNumber, type Command } from '../args.ts';

// A day unless told otherwise: a registration credential should not lie around forever.
const DEFAULT_EXPIRES_IN = 86_400;
const MAX_EXPIRES_IN = 31_536_000;

export const initialAccessTokenCreate: Command = {
  name: 'initial-access-token create',
  synopsis: '[--expires-in SECONDS]',
  summary: `issue a token for dynamic client registration, RFC 7591 §3 (default lifetime ${DEFAULT_EXPIRES_IN} s)`,
  parse(args) {
    const { values } = parsing(() => parseArgs({ args, options: { 'expires-in': { type: 'string' } } }));
    const expiresIn =
      values['expires-in'] === undefined ? DEFAULT_EXPIRES_IN : wholeNumber(values['expires-in'], 'expires-in', 1, MAX_EXPIRES_IN);
    return async ({ config, provider }) => {
      const { InitialAccessToken } = await provider();
      const token = await new InitialAccessToken({ expiresIn }).save();
      return {
        json: { initial_access_token: token, expires_in: expiresIn },
        text: [
          token,
          `expires in ${expiresIn} s; register a client with: POST ${config.issuer}/reg and "Authorization: Bearer <token>"`,
        ].join('\n'),
      };
    };
  },
};
