// The operator's command line: `npm run cli -- <command>` or `enot-id <command>`.
// Reads configuration like the server, opens the same storage, runs one command.
import type Provider from 'oidc-provider';
import { ConfigError, loadConfig, type Config } from '../config/index.ts';
import { SealedSecretError } from '../keys/sealed-secrets.ts';
import { AppError } from '../errors/index.ts';
import { createLogger } from '../logging/logger.ts';
import { openRuntime, type Runtime } from '../runtime.ts';
import { loadSigningKeys } from '../keys/signing-keys.ts';
import { loadCookieKeys } from '../keys/cookie-keys.ts';
import { createProvider } from '../oidc/provider.ts';
import { createLimiters } from '../rate-limit/limiters.ts';
import { UsageError, type Command, type Context } from './args.ts';
import { migrate } from './commands/migrate.ts';
import { userCreate } from './commands/user.ts';
import { clientCreate, clientDelete, clientList } from './commands/client.ts';
import { initialAccessTokenCreate } from './commands/initial-access-token.ts';
import { keysRotate } from './commands/keys.ts';
import { login } from './commands/login.ts';

// stdout carries this command's output and nothing else, but some libraries write diagnostics
// with console.log (knex reports connection errors that way): those go to stderr.
console.log = console.info = console.debug = console.error;

const COMMANDS: Command[] = [migrate, userCreate, clientCreate, clientList, clientDelete, initialAccessTokenCreate, keysRotate, login];

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
].join('\n');

/** Writes and waits until the text has been handed to the OS, so exiting right after loses nothing. */
const write = (stream: NodeJS.WriteStream, text: string) =>
  new Promise<void>((resolve) => stream.write(`${text}\n`, () => resolve()));

function findCommand(words: string[]): Command {
  const command = COMMANDS.find((c) => c.name.split(' ').every((word, i) => words[i] === word));
  if (command) return command;
  const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name.split(' ')[1]);
  if (group.length) throw new UsageError(`"${words[0]}" needs one of: ${group.join(', ')}`);
  throw new UsageError(`unknown command "${words[0]}"`);
}

function contextFor(config: Config, runtime: Runtime): Context {
  let provider: Promise<Provider> | undefined;
  return {
    config,
    runtime,
    provider: () =>
      (provider ??= (async () => {
        const [signingKeys, cookieKeys] = await Promise.all([
          loadSigningKeys(runtime.db, runtime.sealer),
          loadCookieKeys(runtime.db, runtime.sealer, config.cookieKeys),
        ]);
        const logger = createLogger('silent');
        const limiters = createLimiters({ db: runtime.db, redis: runtime.redis, prefix: config.redisPrefix });
        return createProvider({ config, db: runtime.db, adapters: runtime.adapters, signingKeys, cookieKeys, logger, limiters }).provider;
      })()),
  };
}

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
    const output = await work({ config, runtime: undefined as unknown as Runtime, provider: () => Promise.reject(new Error('no storage')) });
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
  else if (err instanceof AppError) [code, description] = [err.code, err.description];
  await write(process.stderr, `enot-id: ${description.split('\n')[0]}`);
  if (err instanceof UsageError) await write(process.stderr, err.command ? `usage: enot-id ${synopsis(err.command)}` : `\n${USAGE}`);
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
