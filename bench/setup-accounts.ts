// Creates the benchmark's accounts with Enot ID's own modules, before the
// server under load starts (an embedded DATA_DIR belongs to one process at a time).
// Reads the same environment as the server; prints one JSON line.
import { parseArgs } from 'node:util';
import { loadConfig } from '../server/config/index.ts';
import { openRuntime } from '../server/runtime.ts';
import { hashPassword } from '../server/accounts/passwords.ts';
import { insertAccount } from '../server/accounts/queries.ts';
import { normalizeEmail } from '../server/accounts/identifiers.ts';
import { PASSWORD, codeAccount, passwordAccount } from './lib/settings.ts';

// --code-from: the first code account's number, so that a later set-up on the same storage adds fresh ones.
const { values } = parseArgs({
  options: { password: { type: 'string', default: '10' }, code: { type: 'string', default: '10' }, 'code-from': { type: 'string', default: '0' } },
});
const codeFrom = Number(values['code-from']);
const began = performance.now();
const runtime = await openRuntime(loadConfig(process.env));
try {
  // One Argon2id hash for every password account: the cost of verifying is what is measured, not of creating.
  const passwordHash = await hashPassword(PASSWORD);
  await runtime.db.transaction(async (trx) => {
    for (let i = 0; i < Number(values.password); i++) {
      await insertAccount(trx, { identifier: { kind: 'email', value: normalizeEmail(passwordAccount(i)) }, passwordHash, roles: [] });
    }
    for (let i = codeFrom; i < codeFrom + Number(values.code); i++) {
      await insertAccount(trx, { identifier: { kind: 'email', value: normalizeEmail(codeAccount(i)) }, passwordHash: null, roles: [] });
    }
  });
} finally {
  await runtime.close();
}
process.stdout.write(`${JSON.stringify({ password: Number(values.password), code: Number(values.code), codeFrom, ms: Math.round(performance.now() - began) })}\n`);
