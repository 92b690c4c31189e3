// What the person is told when sending or checking a code fails: one mapping
// for the sign-in flows and the account page.
import { CodeAttemptsExhausted, CodeExpired, CodeInvalid, DeliveryFailed, RateLimited } from '../../errors/index.ts';
import type { Strings } from '../../../views/strings.ts';
import type { InteractionDeps } from '../deps.ts';

/** The status and message for a code or delivery error, or undefined for any other error (rethrow it). */
export function codeProblem(err: unknown, t: Strings): { status: number; error: string } | undefined {
  if (err instanceof CodeInvalid) return { status: 400, error: t.wrongCode(err.attemptsLeft) };
  if (err instanceof CodeExpired) return { status: 400, error: t.codeExpired };
  if (err instanceof CodeAttemptsExhausted) return { status: 400, error: t.codeDead };
  if (err instanceof RateLimited) return { status: 429, error: t.tooMany(err.retryAfter) };
  if (err instanceof DeliveryFailed) return { status: 503, error: t.sendFailed };
  return undefined;
}

/** Seconds until the flow may ask for a new code (0: now). */
export async function resendInSeconds(deps: InteractionDeps, flowId: string): Promise<number> {
  const available = await deps.codes.resendAvailableAt(flowId);
  return available ? Math.max(0, Math.ceil((available.getTime() - deps.now()) / 1000)) : 0;
}
