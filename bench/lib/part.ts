// What the growth and scale-out parts get from the benchmark run (bench/run.ts):
// the mode's server environment and client, and ways to start processes that
// the run's clean-up (also on Ctrl-C) stops again.
import type { Target } from './flows.ts';
import type { LoadOptions } from './load.ts';
import type { Running } from './processes.ts';

export interface PartDeps {
  /** The server mode's environment: storage, resources, TRUST_PROXY, ISSUER and PORT of the main server. */
  env: Record<string, string>;
  /** The client registered for the run; each part sets the origin it talks to. */
  target: Target;
  /** Starts an Enot ID process with `env`, logging to its own file named after `name`. */
  startServer(env: Record<string, string>, name: string): Promise<Running>;
  /** Hands another child process to the run's clean-up. */
  track<T extends Running>(running: Promise<T>): Promise<T>;
  logFile(name: string): string;
  /** The run's load shape (duration, warm-up, connections) against `url`. */
  load(url: string, connections?: number): LoadOptions;
  flowConnections: number;
  /** The run's password accounts (passwordAccount(0 … n-1)). */
  passwordAccounts: number;
  quick: boolean;
  log(message: string): void;
}
