// Mail over SMTP or SMTPS (SMTP_URL) with nodemailer, one connection per message.
import type { Transporter } from 'nodemailer';
import type { Logger } from '../logging/logger.ts';
import { DeliveryFailed } from '../errors/index.ts';
import type { Delivery, OutgoingMessage } from './types.ts';

export interface SmtpOptions {
  url: string;
  from: string;
  /** Connect, greeting and idle-socket limit; nodemailer's defaults (up to 10 minutes) would hold a request open. */
  timeoutMs?: number;
}

// Server replies often quote the recipient; the log keeps the reason, not the address.
function withoutAddresses(text: string): string {
  return text.replace(/[^\s<>"'@]+@[^\s<>"']+/g, '[address]');
}

function failureDetails(err: unknown) {
  const e = (err ?? {}) as { message?: unknown; code?: unknown; responseCode?: unknown; command?: unknown };
  return {
    reason: withoutAddresses(String(e.message ?? err)),
    errorCode: typeof e.code === 'string' ? e.code : undefined,
    responseCode: typeof e.responseCode === 'number' ? e.responseCode : undefined,
    command: typeof e.command === 'string' ? e.command : undefined,
  };
}

export function createSmtpDelivery(options: SmtpOptions, logger: Logger): Delivery {
  const timeout = options.timeoutMs ?? 10_000;
  // nodemailer (about 650 KiB of source) loads with the first message, not at start.
  let transport: Promise<Transporter> | undefined;
  const transporter = () =>
    (transport ??= import('nodemailer').then(({ createTransport }) =>
      createTransport({
        url: options.url,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        dnsTimeout: timeout,
        // Messages are built from our own templates; refuse any file or URL content outright.
        disableFileAccess: true,
        disableUrlAccess: true,
      })));
  return {
    async send(message: OutgoingMessage) {
      try {
        await (await transporter()).sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject ?? '',
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
        });
      } catch (err) {
        logger.warn({ transport: 'smtp', channel: message.channel, ...failureDetails(err) }, 'delivery failed');
        throw new DeliveryFailed();
      }
    },
    async close() {
      (await transport?.catch(() => undefined))?.close();
    },
  };
}
