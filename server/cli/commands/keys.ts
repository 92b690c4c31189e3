// `enot-id keys ...`: signing keys, through the admin API (server/admin/keys/routes.ts).
import { parseArgs } from 'node:util';
import { parsing, type Command } from '../args.ts';
import { listing } from '../output.ts';

export const keysList: Command = {
  name: 'keys list', synopsis: '', summary: 'signing keys still published in JWKS (active first)', admin: true,
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ admin }) => {
      const { items } = (await (await admin())({ method: 'get', path: '/keys' })) as { items: Record<string, unknown>[] };
      return { json: { keys: items }, text: listing(items, ['kid', 'alg', 'created_at', 'retired_at', 'expires_at'], 'no keys') };
    };
  },
};

export const keysRotate: Command = {
  name: 'keys rotate', synopsis: '', admin: true,
  summary: 'retire the signing keys and create new ones (retired keys stay in JWKS until their tokens expire)',
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ admin, runtime }) => {
      const rotated = (await (await admin())({ method: 'post', path: '/keys/rotate' })) as { retired: string[]; created: string[]; retired_kept_seconds: number };
      const { retired, created, retired_kept_seconds: keep } = rotated;
      return {
        json: { retired, created },
        text: [
          `retired: ${retired.join(', ') || '(none)'}`,
          `created: ${created.join(', ')}`,
          `retired keys stay published in JWKS for ${keep} s.`,
          // Without a runtime here, the running embedded server rotated them itself and signs with them already.
          runtime ? 'Running servers switch to the new keys within a minute (they check the database every 60 s).' : 'The running server signs with the new keys now.',
        ].join('\n'),
      };
    };
  },
};
