// One-time codes sent by mail or SMS: issue, store as an HMAC, verify once.
// Lifecycle and limits: docs/verification.md; the numbers: ./limits.ts.
//
// One row per flow in verification_codes: issuing replaces the row (a new code
// invalidates the older one, as Logto's passcode library does). Every decision
// that must hold across processes is a single conditional SQL statement, so
// two processes sharing the database count the same tries and spend a code
// once.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { deletedCount } from '../db/deleted-count.ts';
import { identifierKey } from '../accounts/identifiers.ts';
import { CodeAttemptsExhausted, CodeExpired, CodeInvalid, RateLimited } from '../errors/index.ts';
import type { Limiters } from '../rate-limit/limiters.ts';
import { CODE_LIMITS } from './limits.ts';
import { traced } from '../tracing/spans.ts';

export type CodeChannel = 'email' | 'sms';

export interface IssuedCode {
  code: string;
  expiresAt: Date;
}

export interface VerifiedCode {
  identifier: string;
  channel: CodeChannel;
  purpose: string;
}

export interface CodeDeps {
  db: Knex;
  secret: string;
  limiters: Limiters;
  /** Milliseconds since the epoch; injectable so tests move the clock instead of sleeping. */
  now?: () => number;
}

interface CodeRow {
  flow_id: string;
  purpose: string;
  channel: CodeChannel;
  identifier: string;
  code_hmac: string;
  attempts: number;
  created_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
}

const TABLE = 'verification_codes';

/** The identifier a code was sent to, as the per-identifier limits count it (accounts/identifiers.ts). */
export function codeIdentifierKey(channel: CodeChannel, identifier: string): string {
  return identifierKey({ kind: channel === 'email' ? 'email' : 'phone', value: identifier });
}

/** ASVS V2.7.6 / NIST SP 800-63B §5.1.3.2: from a CSPRNG, every value equally likely. */
function newCode(): string {
  return String(randomInt(0, 10 ** CODE_LIMITS.digits)).padStart(CODE_LIMITS.digits, '0');
}

/** The flow id is inside the MAC: a code is only ever good for the flow that asked for it (ASVS V2.7.3). */
function mac(secret: string, flowId: string, code: string): Buffer {
  return createHmac('sha256', secret).update(`${flowId}:${code}`).digest();
}

function sameMac(storedHex: string, candidate: Buffer): boolean {
  const stored = Buffer.from(storedHex, 'hex');
  return stored.length === candidate.length && timingSafeEqual(stored, candidate);
}

/** The error for a row that can no longer be verified, or undefined when it still can. */
function deadCodeError(row: CodeRow | undefined, now: number): Error | undefined {
  // No code, or a code already used: nothing left to try here (documented in docs/verification.md).
  if (!row || row.consumed_at) return new CodeInvalid(0);
  if (row.attempts >= CODE_LIMITS.maxAttempts) return new CodeAttemptsExhausted();
  if (row.expires_at.getTime() <= now) return new CodeExpired();
  return undefined;
}

/** When the flow may be sent another code; undefined when it may be now. */
function resendAt(row: CodeRow | undefined, now: number): Date | undefined {
  // A code that has been used is not waiting for a resend: the next one may go at once.
  if (!row || row.consumed_at) return undefined;
  const at = row.created_at.getTime() + CODE_LIMITS.resendAfterSeconds * 1000;
  return at > now ? new Date(at) : undefined;
}

export function createCodes(deps: CodeDeps) {
  const { db, secret, limiters } = deps;
  const now = deps.now ?? Date.now;
  const find = (flowId: string) => db<CodeRow>(TABLE).where({ flow_id: flowId }).first();

  function throwIfTooSoon(row: CodeRow | undefined, at: number): void {
    const next = resendAt(row, at);
    if (next) throw new RateLimited((next.getTime() - at) / 1000, 'a code was sent moments ago; wait a little before asking for another');
  }

  const codes = {
    /**
     * `knownDevice`: the id of a known device of the account holding the
     * identifier, when that is who asks; its sends have their own count, apart
     * from strangers' (limits.ts, docs/verification.md "Lockout").
     */
    async issue(input: {
      flowId: string; purpose: string; channel: CodeChannel; identifier: string; ip: string; knownDevice?: string;
    }): Promise<IssuedCode> {
      const at = now();
      // Before the counters, so an early resend does not use up the hour's sends.
      throwIfTooSoon(await find(input.flowId), at);
      await limiters.codeSendsPerIp.consume(input.ip);
      const key = codeIdentifierKey(input.channel, input.identifier);
      if (input.knownDevice) {
        await limiters.codeSendsPerKnownDevice.consume(`${key} ${input.knownDevice}`);
      } else {
        await limiters.codeSendsPerIdentifierIp.consume(`${key} ${input.ip}`);
        await limiters.codeSendsPerIdentifier.consume(key);
      }

      const code = newCode();
      const row = {
        flow_id: input.flowId,
        purpose: input.purpose,
        channel: input.channel,
        identifier: input.identifier,
        code_hmac: mac(secret, input.flowId, code).toString('hex'),
        attempts: 0,
        created_at: new Date(at),
        expires_at: new Date(at + CODE_LIMITS.ttlSeconds * 1000),
        consumed_at: null,
      };
      // Replace the flow's code only if it was used or the resend wait is over:
      // checked again in the same statement, so concurrent sends cannot both pass.
      const written = await db(TABLE)
        .insert(row)
        .onConflict('flow_id')
        .merge()
        .where(`${TABLE}.created_at`, '<=', new Date(at - CODE_LIMITS.resendAfterSeconds * 1000))
        .orWhereNotNull(`${TABLE}.consumed_at`)
        .returning('flow_id');
      if (written.length === 0) {
        throwIfTooSoon(await find(input.flowId), at);
        throw new RateLimited(1);
      }
      return { code, expiresAt: row.expires_at };
    },

    /** `knownDevice` as for issue: its wrong codes are counted apart from strangers'. */
    async verify(input: { flowId: string; code: string; ip: string; knownDevice?: string }): Promise<VerifiedCode> {
      const at = now();
      await limiters.codeVerifiesPerIp.consume(input.ip);
      const row = await find(input.flowId);
      const dead = deadCodeError(row, at);
      if (dead || !row) throw dead;
      const identifier = codeIdentifierKey(row.channel, row.identifier);
      const [failures, key] = input.knownDevice
        ? [limiters.codeFailuresPerKnownDevice, `${identifier} ${input.knownDevice}`]
        : [limiters.codeFailuresPerIdentifier, identifier];
      await failures.check(key);

      // Each update below re-checks the row is the same live code, so only
      // one of any concurrent requests can spend it or count a given try.
      const live = (q: Knex.QueryBuilder) =>
        q.where({ flow_id: row.flow_id, code_hmac: row.code_hmac })
          .whereNull('consumed_at')
          .where('attempts', '<', CODE_LIMITS.maxAttempts)
          .where('expires_at', '>', new Date(at));

      const candidate = mac(secret, input.flowId, input.code.replace(/\s+/g, ''));
      if (sameMac(row.code_hmac, candidate)) {
        const [used] = await live(db(TABLE)).update({ consumed_at: new Date(at) }).returning(['identifier', 'channel', 'purpose']);
        if (!used) throw deadCodeError(await find(input.flowId), at) ?? new CodeInvalid(0);
        // A right code ends the run of failures for the identifier, from anywhere (NIST SP 800-63B §5.2.2).
        await Promise.all([failures.reset(key), limiters.codeFailuresPerIdentifier.reset(identifier)]);
        return { identifier: used.identifier, channel: used.channel, purpose: used.purpose };
      }

      const [counted] = await live(db(TABLE)).increment('attempts', 1).returning(['attempts']);
      if (!counted) {
        // Another request used up the tries or spent the code first; this try is not counted.
        const current = await find(input.flowId);
        throw deadCodeError(current, at) ?? new CodeInvalid(CODE_LIMITS.maxAttempts - current!.attempts);
      }
      await failures.consume(key);
      throw new CodeInvalid(CODE_LIMITS.maxAttempts - counted.attempts);
    },

    async resendAvailableAt(flowId: string): Promise<Date | undefined> {
      return resendAt(await find(flowId), now());
    },
  };
  // Spans of their own (server/tracing/): what kind of code, never the code or where it goes.
  return {
    ...codes,
    issue: (input: Parameters<typeof codes.issue>[0]) =>
      traced('code.issue', () => codes.issue(input), { 'enot.code.purpose': input.purpose, 'enot.code.channel': input.channel }),
    verify: (input: Parameters<typeof codes.verify>[0]) => traced('code.verify', () => codes.verify(input)),
  };
}

/** Deletes codes that expired before `before`; returns how many. Safe to run from every process. */
export async function purgeExpiredCodes(db: Knex, before: Date = new Date()): Promise<number> {
  return deletedCount(await db(TABLE).where('expires_at', '<', before).delete());
}

/** Deletes every code sent to these emails or phones (an account deleted: nothing of it is kept); returns how many. */
export async function forgetCodesTo(db: Knex, identifiers: string[]): Promise<number> {
  if (!identifiers.length) return 0;
  return deletedCount(await db(TABLE).whereRaw(`lower(identifier) in (${identifiers.map(() => 'lower(?)').join(', ')})`, identifiers).delete());
}
