// What every command shares: its shape, the context it runs in, and helpers
// that turn bad arguments into a UsageError (printed with the usage text).
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { Runtime } from '../runtime.ts';
import type { AdminCaller } from '../admin/local.ts';

export interface Context {
  config: Config;
  /** Storage this process opened; absent for `storage: false` commands and for `admin` commands sent to a running server. */
  runtime: Runtime;
  /** oidc-provider configured as the server configures it; built on first use. */
  provider(): Promise<Provider>;
  /** The admin API: of the running embedded server, or its routes in this process (./admin.ts). */
  admin(): Promise<AdminCaller>;
}

export interface Output {
  /** Printed with --json: exactly one object. */
  json: Record<string, unknown>;
  /** Printed otherwise. */
  text: string;
}

export interface Command {
  /** The words that select it, e.g. "client create". */
  name: string;
  /** Arguments after the name, for the usage text. */
  synopsis: string;
  summary: string;
  /** False when the command applies migrations itself. */
  migrate?: boolean;
  /** False for commands that only talk HTTP to a running server: no database is opened (ctx.runtime is absent). */
  storage?: false;
  /**
   * True for commands that use only ctx.admin(): they also run while an embedded
   * server holds the database, through that server's admin API.
   */
  admin?: true;
  /**
   * Checks the arguments before anything is opened, so a typo never touches
   * the database; returns the work to do.
   */
  parse(args: string[]): (ctx: Context) => Promise<Output>;
}

export class UsageError extends Error {
  /** The command whose arguments were wrong, to show just its usage line. */
  command?: Command;
  /** A group named without its last word ("user roles"): its commands' usage lines. */
  group?: Command[];

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Runs node:util parseArgs (or anything else), reporting its errors as usage errors. */
export function parsing<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/** Values of a repeatable option, each of which may also be a comma-separated list. */
export function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`--${option} is required`);
  return value;
}

export function wholeNumber(value: string, option: string, min: number, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}
