// A real HTTP server standing in for an SMS gateway's webhook. It records every
// request with its headers and raw body, and can be told to answer an error status
// or to hang without ever answering.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { arrivals } from './arrivals.ts';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: { to?: unknown; text?: unknown } | undefined;
}

/** 'ok' answers 204; a number answers that status; 'hang' never answers. */
export type ReceiverBehaviour = 'ok' | 'hang' | number;

export interface SmsReceiver {
  url: string;
  requests: ReceivedRequest[];
  behave(behaviour: ReceiverBehaviour): void;
  /** The next request not yet returned by nextRequest, waiting for it to arrive. */
  nextRequest(timeoutMs?: number): Promise<ReceivedRequest>;
  close(): Promise<void>;
}

/**
 * The receiver's side of X-Enot-Signature, written independently of the sender:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, with `t`
 * no further than `toleranceSeconds` from now so a captured request cannot be replayed later.
 */
export function verifySignature(header: string | undefined, body: string, secret: string, options: { toleranceSeconds?: number; now?: number } = {}): boolean {
  const fields = new Map((header ?? '').split(',').map((pair) => pair.trim().split('=', 2) as [string, string]));
  const t = fields.get('t');
  const v1 = fields.get('v1');
  if (!t || !/^\d+$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

function parseJson(body: string): ReceivedRequest['json'] {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as ReceivedRequest['json']) : undefined;
  } catch {
    return undefined;
  }
}

export async function startSmsReceiver(): Promise<SmsReceiver> {
  const requests = arrivals<ReceivedRequest>();
  let behaviour: ReceiverBehaviour = 'ok';

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.add({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: parseJson(body) });
      if (behaviour === 'hang') return;
      res.statusCode = behaviour === 'ok' ? 204 : behaviour;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}/sms`,
    requests: requests.all,
    behave(next) {
      behaviour = next;
    },
    nextRequest: (timeoutMs = 5000) => requests.next(timeoutMs, 'SMS webhook request'),
    close() {
      // Hanging requests would keep close() waiting for ever.
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
