// Limits on password sign-in that an attacker cannot turn into a lockout
// (docs/verification.md, "Lockout"; numbers in ./limits.ts):
// - from a known device of the account (OWASP "Slow down online guessing
//   attacks with device cookies"), failures count for that device alone;
// - from any other browser, the first few failures are free, then each try
//   waits 2^(n − 5) s (at most 15 min) instead of a 24-hour lock (ASVS V2.2.1),
//   and still no more than 100 in a row (NIST SP 800-63B §5.2.2); tries are
//   counted as they start, at most 10 at once and one at a time once the
//   free failures are used, so concurrent guesses cannot slip past a wait;
// - per IP address, 100 failures an hour (ASVS V2.2.1, credential stuffing).
// A correct password clears the identifier's counts.
import { identifierKey, type Identifier } from '../accounts/identifiers.ts';
import { RateLimited } from '../errors/index.ts';
import type { Limiter, Limiters } from '../rate-limit/limiters.ts';
import { PASSWORD_LIMITS } from './limits.ts';

/** One admitted try: say how it ended. `release` frees a try that ended neither way (an error). */
export interface PasswordTry {
  failed(): Promise<void>;
  succeeded(): Promise<void>;
  release(): Promise<void>;
}

/** Seconds the next try waits after `failures` consecutive failures from unknown browsers. */
export function waitAfterFailures(failures: number): number {
  if (failures < PASSWORD_LIMITS.freeFailuresPerIdentifier) return 0;
  return Math.min(2 ** (failures - PASSWORD_LIMITS.freeFailuresPerIdentifier), PASSWORD_LIMITS.maxWaitSeconds);
}

/**
 * Counts one point of `limiter` for `key` before the password is checked (an
 * atomic count, so concurrent tries cannot all pass a check made before the
 * others were counted), and notes how to give it back. Refused: given back at once.
 */
async function countFirst(limiter: Limiter, key: string, giveBack: Array<() => Promise<void>>): Promise<number> {
  try {
    const used = await limiter.consume(key);
    giveBack.push(() => limiter.reward(key));
    return used;
  } catch (err) {
    if (err instanceof RateLimited) await limiter.reward(key);
    throw err;
  }
}

export function passwordAttempts(limiters: Limiters) {
  const perIp = limiters.passwordAttemptsPerIp;
  const perIdentifier = limiters.passwordFailuresPerIdentifier;
  const perDevice = limiters.passwordFailuresPerKnownDevice;
  const wait = limiters.passwordWait;
  const inFlight = limiters.passwordTriesInFlight;

  return {
    /**
     * Admits one try, or throws RateLimited with the wait. `knownDevice`: the id of
     * a known device of the account holding `identifier` (devices/known-devices.ts).
     */
    async begin(input: { identifier: Identifier; ip: string; knownDevice?: string }): Promise<PasswordTry> {
      const key = identifierKey(input.identifier);
      const deviceKey = input.knownDevice ? `${key} ${input.knownDevice}` : undefined;
      // What begin took, given back when the try is refused or ends without failing.
      const giveBack: Array<() => Promise<void>> = [];
      const undo = () => Promise.all(giveBack.map((f) => f()));
      try {
        // Counted as a failure up front (wrong passwords per IP); a right one gives it back.
        await countFirst(perIp, input.ip, giveBack);
        if (deviceKey) {
          // A known device of the account: its own count; strangers' counts and waits do not apply.
          await perDevice.check(deviceKey);
        } else {
          // Counted as running first: a try that ends sets its wait before it stops
          // running, so whatever this one reads below already includes that wait.
          const running = await countFirst(inFlight, key, giveBack);
          // Refused while a wait runs, and after 100 failures in a row (NIST SP 800-63B §5.2.2).
          await wait.check(key);
          await perIdentifier.check(key);
          // Past the free failures, one try at a time: two cannot both pass the same wait.
          // (A try that ends just after the window of its count began anew gives its point
          // back to the new window, at -1: then two may run at once, rarely, never more.)
          if (running > 1 && (await perIdentifier.used(key)) >= PASSWORD_LIMITS.freeFailuresPerIdentifier) throw new RateLimited(1);
        }
      } catch (err) {
        await undo();
        throw err;
      }

      let ended = false;
      return {
        async failed() {
          ended = true;
          if (deviceKey) {
            await perDevice.consume(deviceKey).catch(ignoreRateLimited);
            return;
          }
          const failures = await perIdentifier.consume(key).catch((err: unknown) => {
            ignoreRateLimited(err);
            return PASSWORD_LIMITS.failuresPerIdentifierPerDay;
          });
          const seconds = waitAfterFailures(failures);
          // Set before this try stops running, so the next one sees it.
          if (seconds > 0) await wait.block(key, seconds);
          await inFlight.reward(key);
        },
        async succeeded() {
          ended = true;
          // A right password ends the run of failures for the identifier, from anywhere.
          await Promise.all([
            undo(), perIdentifier.reset(key), wait.reset(key), deviceKey ? perDevice.reset(deviceKey) : undefined,
          ]);
        },
        async release() {
          // Neither failed nor succeeded (an error): the try does not count.
          if (!ended) await undo();
        },
      };
    },
  };
}

function ignoreRateLimited(err: unknown): void {
  if (!(err instanceof RateLimited)) throw err;
}

export type PasswordAttempts = ReturnType<typeof passwordAttempts>;
