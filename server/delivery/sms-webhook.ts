// SMS through any HTTP endpoint: POST {"to","text"} as JSON. With a secret, each
// request is signed Stripe-style so the receiver can check origin and reject replays
// (docs/delivery.md has the receiver's side).
import { createHmac } from 'node:crypto';
import type { SmsTransport } from './types.ts';

export const SIGNATURE_HEADER = 'X-Enot-Signature';

export interface WebhookOptions {
  url: string;
  secret?: string;
  /** Whole-request limit; a hanging gateway must not hold the sign-in page. */
  timeoutMs?: number;
  /** Unix time in seconds; injectable so signatures can be checked at a known time. */
  now?: () => number;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` */
export function signatureHeaderValue(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

function describe(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}

export function createWebhookSmsTransport(options: WebhookOptions): SmsTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  return {
    name: 'sms-webhook',
    async send(sms) {
      const body = JSON.stringify({ to: sms.to, text: sms.text });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.secret) headers[SIGNATURE_HEADER] = signatureHeaderValue(options.secret, now(), body);
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers,
          body,
          // A redirect would replay the signed body somewhere the operator never named.
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        // Only the reason: the URL may carry a token, the error never the message.
        throw new Error(`webhook request failed: ${describe(err)}`);
      }
      // The answer's content means nothing to us; release the connection.
      await response.body?.cancel().catch(() => {});
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    },
  };
}
