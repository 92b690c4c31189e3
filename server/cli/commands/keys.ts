import { parseArgs } from 'node:util';
import { rotateSigningKeys } from '../../keys/signing-keys.ts';
import { parsing, type Command } from '../args.ts';
// ID tokens signed by a retired key must still verify.
import { ID_TOKEN_TTL } from '../../oidc/provider.ts';

// Covers servers that sign with the old key until their next key check (every minute,
// server/server.ts) and relying parties whose clocks run late.
const CLOCK_SLACK = 300;

export const keysRotate: Command = {
  name: 'keys rotate',
  synopsis: '',
  summary: 'retire the signing keys and create new ones (retired keys stay in JWKS until their tokens expire)',
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ config, runtime }) => {
      const keepSeconds = Math.max(config.accessTokenTtl, ID_TOKEN_TTL) + CLOCK_SLACK;
      const rotated = await rotateSigningKeys(runtime.db, runtime.sealer, keepSeconds);
      // Sorted for a stable, readable output (es256-… before rs256-…).
      const [retired, created] = [rotated.retired.sort(), rotated.created.sort()];
      return {
        json: { retired, created },
        text: [
          `retired: ${retired.join(', ') || '(none)'}`,
          `created: ${created.join(', ')}`,
          `retired keys stay published in JWKS for ${keepSeconds} s.`,
          'Running servers switch to the new keys within a minute (they check the database every 60 s).',
        ].join('\n'),
      };
    };
  },
};
