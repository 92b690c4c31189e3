// The mail server the benchmark's Enot ID sends codes to: smtp-server on
// loopback, in the benchmark process, keeping only the latest code per recipient.
import { SMTPServer } from 'smtp-server';
import { parseMail } from '../../test/helpers/smtp.ts';

export interface SmtpSink {
  url: string;
  received(): number;
  /** The latest code sent to `address` (lower-case), taken once. */
  take(address: string): string | undefined;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const codes = new Map<string, string>();
  let received = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received++;
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const mail = parseMail(Buffer.concat(chunks), '', to);
        // The code stands alone on its own line in the text part.
        const code = /^\s*(\d{6})\s*$/m.exec(mail.text ?? '')?.[1];
        if (code) for (const address of to) codes.set(address, code);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => received,
    take(address) {
      const key = address.toLowerCase();
      const code = codes.get(key);
      codes.delete(key);
      return code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
