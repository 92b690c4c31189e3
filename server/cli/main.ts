// The operator's command line: `npm run cli -- <command>` or `enot-id <command>`.
// Reads configuration like the server, opens the same storage, runs one command.
import type Provider from 'oidc-provider';
import { ConfigError, loadConfig, type Config } from '../config/index.ts';
import { SealedSecretError } from '../keys/sealed-secrets.ts';
import { AppError } from '../errors/index.ts';
import { StorageConnectError } from '../errors/connection.ts';
import { createLogger } from '../logging/logger.ts';
import { openRuntime, type Runtime } from '../runtime.ts';
import { loadSigningKeys } from '../keys/signing-keys.ts';
import { loadCookieKeys } from '../keys/cookie-keys.ts';
import { createProvider } from '../oidc/provider.ts';
import { createLimiters } from '../rate-limit/limiters.ts';
import { UsageError, type Command, type Context } from './args.ts';
import { inProcessAdmin, remoteAdmin } from './admin.ts';
import type { AdminCaller } from '../admin/local.ts';
import { embeddedLockHolder } from '../db/embedded-lock.ts';
import { migrate } from './commands/migrate.ts';
import { userCommands } from './commands/user.ts';
import { clientCommands } from './commands/client.ts';
import { roleCommands } from './commands/role.ts';
import { resourceCommands } from './commands/resource.ts';
import { initialAccessTokenCreate } from './commands/initial-access-token.ts';
import { keysList, keysRotate } from './commands/keys.ts';
import { auditTail } from './commands/audit.ts';
import { login } from './commands/login.ts';
import { mailingCommands } from './commands/mailing.ts';

// stdout carries this command's output and nothing else, but some libraries write diagnostics
// with console.log (knex reports connection errors that way): those go to stderr.
console.log = console.info = console.debug = console.error;

const COMMANDS: Command[] = [
  migrate, ...userCommands, ...roleCommands, ...resourceCommands, ...clientCommands, initialAccessTokenCreate, keysList, keysRotate, auditTail, ...mailingCommands, login,
];

function synopsis(command: Command): string {
  return command.synopsis ? `${command.name} ${command.synopsis}` : command.name;
}

const USAGE = [
  'usage: enot-id <command> [options] [--json]',
  '',
  'commands:',
  ...COMMANDS.flatMap((c) => [`  ${synopsis(c)}`, `      ${c.summary}`]),
  '  help',
  '      show this text',
  '',
  '--json prints one JSON object on stdout (also for errors: {"error", "error_description"}).',
  'Configuration comes from the same environment variables as the server (DATABASE_URL, DATA_DIR, ...).',
  'Beside a running embedded server, commands go through its admin API (DATA_DIR/operator-credential.json);',
  'otherwise they run the admin API in this process. An account is named by its id, email or phone.',
].join('\n');

/** Writes and waits until the text has been handed to the OS, so exiting right after loses nothing. */
const write = (stream: NodeJS.WriteStream, text: string) =>
  new Promise<void>((resolve) => stream.write(`${text}\n`, () => resolve()));

function findCommand(words: string[]): Command {
  // The longest name whose words all match: "user roles add" before "user".
  const matching = COMMANDS.filter((c) => c.name.split(' ').every((word, i) => words[i] === word));
  const command = matching.sort((a, b) => b.name.length - a.name.length)[0];
  if (command) return command;
  // A group named without its last word: say which words may follow.
  for (let depth = Math.min(words.length, 2); depth > 0; depth--) {
    const prefix = words.slice(0, depth);
    const group = COMMANDS.filter((c) => c.name.split(' ').length > depth && prefix.every((w, i) => c.name.split(' ')[i] === w));
    if (group.length) {
      const next = new Set(group.map((c) => c.name.split(' ')[depth]!));
      throw Object.assign(new UsageError(`"${prefix.join(' ')}" needs one of: ${[...next].join(', ')}`), { group });
    }
  }
  throw new UsageError(`unknown command "${words[0]}"`);
}

function contextFor(config: Config, runtime: Runtime): Context {
  let built: Promise<ReturnType<typeof createProvider>> | undefined;
  const build = () =>
    (built ??= (async () => {
      const [signingKeys, cookieKeys] = await Promise.all([
        loadSigningKeys(runtime.db, runtime.sealer),
        loadCookieKeys(runtime.db, runtime.sealer, config.cookieKeys),
      ]);
      const logger = createLogger('silent');
      const limiters = createLimiters({ db: runtime.db, redis: runtime.redis, prefix: config.redisPrefix });
      return createProvider({ config, db: runtime.db, adapters: runtime.adapters, signingKeys, cookieKeys, logger, limiters });
    })());
  let admin: Promise<AdminCaller> | undefined;
  return {
    config,
    runtime,
    provider: async () => (await build()).provider,
    admin: () =>
      (admin ??= build().then(({ provider, jwtTokens }) =>
        inProcessAdmin({
          provider: { current: provider, accessTokens: jwtTokens },
          db: runtime.db, config, revokeAccount: runtime.revokeAccount, sealer: runtime.sealer, accountModels: runtime.accountModels,
          adapters: runtime.adapters,
          jobs: runtime.jobs,
          logger: createLogger('silent'),
          // Running servers notice new keys within a minute (server/server.ts).
          refreshSigningKeys: async () => false,
        }),
      )),
  };
}

const NO_STORAGE = () => Promise.reject(new Error('no storage in this process'));

async function run(args: string[], json: boolean): Promise<void> {
  const command = findCommand(args);
  // Arguments are checked before configuration or storage is touched.
  let work;
  try {
    work = command.parse(args.slice(command.name.split(' ').length));
  } catch (err) {
    if (err instanceof UsageError) err.command = command;
    throw err;
  }
  const config = loadConfig();
  if (command.storage === false) {
    // Commands that never touch storage (see Command.storage) get no runtime.
    const output = await work({ config, runtime: undefined as unknown as Runtime, provider: NO_STORAGE, admin: NO_STORAGE });
    await write(process.stdout, json ? JSON.stringify(output.json) : output.text);
    return;
  }
  // Embedded mode: a running server holds the database (server/db/embedded-lock.ts).
  const server = config.databaseUrl ? undefined : embeddedLockHolder(config.dataDir);
  if (server !== undefined) {
    if (!command.admin) {
      const migrated = command.name === 'migrate' ? ' (it applied the migrations when it started)' : '';
      throw new AppError(409, 'server_running', `the embedded database in ${config.dataDir} is in use by the server (process ${server})${migrated}; "${command.name}" needs it to itself: stop the server first`);
    }
    const admin = await remoteAdmin(config, server);
    const output = await work({ config, runtime: undefined as unknown as Runtime, provider: NO_STORAGE, admin: async () => admin });
    await write(process.stdout, json ? JSON.stringify(output.json) : output.text);
    return;
  }
  const runtime = await openRuntime(config, { migrate: command.migrate !== false });
  let output;
  try {
    output = await work(contextFor(config, runtime));
  } finally {
    await runtime.close();
  }
  await write(process.stdout, json ? JSON.stringify(output.json) : output.text);
}

/** One line for the operator (and one JSON object with --json); a stack only for what is likely a bug. */
async function report(err: unknown, json: boolean): Promise<void> {
  let code = 'server_error';
  let description = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) code = 'invalid_request';
  else if (err instanceof ConfigError || err instanceof SealedSecretError) code = 'invalid_configuration';
  // Its message names the service, the URL (password hidden) and what went wrong: no stack needed.
  else if (err instanceof StorageConnectError) code = 'temporarily_unavailable';
  else if (err instanceof AppError) [code, description] = [err.code, err.description];
  await write(process.stderr, `enot-id: ${description.split('\n')[0]}`);
  if (err instanceof UsageError) {
    const usage = err.command ? `usage: enot-id ${synopsis(err.command)}` : err.group ? err.group.map((c) => `usage: enot-id ${synopsis(c)}`).join('\n') : `\n${USAGE}`;
    await write(process.stderr, usage);
  }
  // Operational failures (a refused connection, a locked data directory) are plain Errors or carry
  // a code, and their message says it all; anything else is likely a bug, and a report needs the stack.
  const unexpected = code === 'server_error' && err instanceof Error && err.name !== 'Error' && !('code' in err);
  if (unexpected && err.stack) await write(process.stderr, err.stack);
  if (json) await write(process.stdout, JSON.stringify({ error: code, error_description: description }));
}

async function main(argv: string[]): Promise<number> {
  // `--json` and `--help` are understood anywhere before a `--` that ends the options.
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  const json = options.includes('--json');
  const args = argv.filter((arg, i) => arg !== '--json' || (end !== -1 && i > end));
  const help = args.length === 0 || args[0] === 'help' || options.some((a) => a === '--help' || a === '-h');
  if (help) {
    await write(process.stdout, json ? JSON.stringify({ usage: USAGE }) : USAGE);
    return 0;
  }
  try {
    await run(args, json);
    return 0;
  } catch (err) {
    await report(err, json);
    return 1;
  }
}

// An explicit exit: a library handle left open must not keep an operator's shell waiting.
process.exit(await main(process.argv.slice(2)));
