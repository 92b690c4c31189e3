// A real SMTP server in the test process (smtp-server on 127.0.0.1, a free port)
// that keeps every message it accepts, decoded enough to assert on: envelope,
// headers, subject, plain-text and HTML bodies.
import { SMTPServer } from 'smtp-server';
import { arrivals } from './arrivals.ts';

export interface CapturedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  /** Lower-case header names; values unfolded, RFC 2047 words decoded. */
  headers: Map<string, string>;
  from: string;
  to: string;
  subject: string;
  text?: string;
  html?: string;
  raw: string;
  /** The SMTP connection it came over (smtp-server's session id): one per connection, so pooling shows. */
  connection?: string;
}

export interface SmtpCapture {
  port: number;
  /** An SMTP_URL for this server. */
  url: string;
  messages: CapturedMail[];
  /** The next message not yet returned by nextMessage, waiting for it to arrive. */
  nextMessage(timeoutMs?: number): Promise<CapturedMail>;
  /** The next message to `address` (envelope) not yet returned, waiting for it; others stay for nextMessage. */
  nextMessageTo(address: string, timeoutMs?: number): Promise<CapturedMail>;
  close(): Promise<void>;
}

interface MimePart {
  headers: Map<string, string>;
  /** Bytes as latin1 so that 8-bit content survives until its charset is known. */
  body: string;
}

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, encoding: string, text: string) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(text.replaceAll('_', ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
      return new TextDecoder(charset).decode(bytes);
    });
}

function parsePart(raw: string): MimePart {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers = new Map<string, string>();
  // Headers are ASCII by RFC 5322, but SMTPUTF8 mail may carry raw UTF-8 in them.
  const text = Buffer.from(head, 'latin1').toString('utf8');
  for (const line of text.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function parameter(header: string | undefined, name: string): string | undefined {
  const match = new RegExp(`${name}="?([^";]+)"?`, 'i').exec(header ?? '');
  return match?.[1];
}

function decodeBody(part: MimePart): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(part.body, 'base64');
  else if (encoding === 'quoted-printable') {
    const decoded = part.body.replace(/=\r\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    bytes = Buffer.from(decoded, 'latin1');
  } else bytes = Buffer.from(part.body, 'latin1');
  const charset = parameter(part.headers.get('content-type'), 'charset') ?? 'utf-8';
  return new TextDecoder(charset).decode(bytes).replace(/\r\n/g, '\n');
}

function leaves(part: MimePart): MimePart[] {
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = parameter(type, 'boundary');
  if (!type.toLowerCase().startsWith('multipart/') || !boundary) return [part];
  const sections = part.body.split(`--${boundary}`);
  // Skip the preamble, and stop at the closing delimiter `--boundary--`.
  return sections
    .slice(1)
    .filter((section) => !section.startsWith('--'))
    .map((section) => parsePart(section.replace(/^\r\n/, '').replace(/\r\n$/, '')))
    .flatMap(leaves);
}

export function parseMail(raw: Buffer, envelopeFrom: string, envelopeTo: string[]): CapturedMail {
  const latin1 = raw.toString('latin1');
  const root = parsePart(latin1);
  const body = (type: string) => {
    const found = leaves(root).find((p) => (p.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith(type));
    return found && decodeBody(found);
  };
  const header = (name: string) => root.headers.get(name) ?? '';
  return {
    envelopeFrom,
    envelopeTo,
    headers: root.headers,
    from: header('from'),
    to: header('to'),
    subject: header('subject'),
    text: body('text/plain'),
    html: body('text/html'),
    raw: raw.toString('utf8'),
  };
}

export interface SmtpOptions {
  /** A fixed port (a test that starts the server only after mail was tried); default any free port. */
  port?: number;
  /** Answer RCPT TO for this address with 550 (a hard failure: no such mailbox). */
  rejects?: (address: string) => boolean;
  /**
   * Runs after a message was received in full and kept, before the server answers 250;
   * the answer waits for it (a test holds it to kill the sender inside that window).
   */
  beforeReply?: (mail: CapturedMail) => Promise<void> | void;
}

export async function startSmtpServer(options: SmtpOptions = {}): Promise<SmtpCapture> {
  const messages = arrivals<CapturedMail>();
  const server = new SMTPServer({
    // Plain SMTP on loopback: no certificate to trust, any credentials accepted.
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      if (options.rejects?.(address.address)) return callback(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const mail = { ...parseMail(Buffer.concat(chunks), from, session.envelope.rcptTo.map((r) => r.address)), connection: session.id };
        messages.add(mail);
        Promise.resolve(options.beforeReply?.(mail)).then(() => callback(), callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as { port: number };

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages: messages.all,
    nextMessage: (timeoutMs = 5000) => messages.next(timeoutMs, 'mail'),
    nextMessageTo: (address, timeoutMs = 5000) =>
      messages.nextMatching((m) => m.envelopeTo.some((to) => to.toLowerCase() === address.toLowerCase()), timeoutMs, `mail to ${address}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The next message to `address` (queued notices to others may arrive in between); with the
 * six-digit code in its text, if any.
 */
export async function nextMailTo(smtp: SmtpCapture, address: string): Promise<{ subject: string; text: string; html?: string; code?: string }> {
  const mail = await smtp.nextMessageTo(address, 10_000);
  const text = mail.text ?? '';
  return { subject: mail.subject, text, html: mail.html, code: /\b(\d{6})\b/.exec(text)?.[1] };
}
