// While PostgreSQL or Redis is unreachable, every request fails the same way, and
// a line per failure (at error level, as oidc-provider's server errors are logged)
// floods the log and buries everything else. Here such a line becomes a warning —
// the server works as designed, a dependency does not — and per store only the
// first failure of a window is written at once; the others are counted, and the
// window's end writes one line with how many there were.
import type { Logger } from 'pino';
import { unavailableDependency, type Dependency } from '../errors/connection.ts';

/** At most one line per store per this many milliseconds while failures go on. */
export const OUTAGE_WINDOW_MS = 5_000;

const WARN = 40;
/** Marks the lines written here, so the hook lets them through. */
const WRITTEN = Symbol('outage line');

interface Window {
  suppressed: number;
  lastError: string;
}

export interface OutageLog {
  /** True when `args` logged a storage outage at warn or above, now written or counted here. */
  take(logger: Logger, args: unknown[], level: number): boolean;
}

export function outageLog(windowMs = OUTAGE_WINDOW_MS): OutageLog {
  const windows = new Map<Dependency, Window>();

  function open(logger: Logger, dependency: Dependency) {
    windows.set(dependency, { suppressed: 0, lastError: '' });
    setTimeout(() => close(logger, dependency), windowMs).unref();
  }

  function close(logger: Logger, dependency: Dependency) {
    const window = windows.get(dependency)!;
    windows.delete(dependency);
    if (window.suppressed === 0) return;
    logger.warn({ [WRITTEN]: true, dependency, suppressed: window.suppressed, windowMs, lastError: window.lastError }, 'storage still unavailable');
    // Failures went on: keep counting, one line per window until they stop.
    open(logger, dependency);
  }

  return {
    take(logger, args, level) {
      const [first] = args;
      if (level < WARN || typeof first !== 'object' || first === null || WRITTEN in first) return false;
      const err = first instanceof Error ? first : (first as { err?: unknown }).err;
      const dependency = unavailableDependency(err);
      if (!dependency) return false;
      const window = windows.get(dependency);
      if (window) {
        window.suppressed++;
        window.lastError = err instanceof Error ? err.message.slice(0, 200) : '';
        return true;
      }
      // The first one in full, with what the caller said about the request (reqId, path, route).
      const { err: _, ...context } = first instanceof Error ? {} : (first as Record<string, unknown>);
      logger.warn({ ...context, [WRITTEN]: true, dependency, err }, 'storage unavailable');
      open(logger, dependency);
      return true;
    },
  };
}
