// Picks a transport per channel: SMTP when SMTP_URL is set, the SMS webhook when
// SMS_WEBHOOK_URL is set, otherwise the dev outbox for that channel.
import type { Config } from '../config/index.ts';
import type { Logger } from '../logging/logger.ts';
import { createOutbox } from './outbox.ts';
import { createSmtpDelivery } from './smtp.ts';
import { createSmsDelivery } from './sms.ts';
import { createWebhookSmsTransport } from './sms-webhook.ts';
import type { Channel, Delivery } from './types.ts';

export type { Channel, Delivery, OutgoingMessage, SmsTransport } from './types.ts';

export function createDelivery(config: Config, logger: Logger): Delivery {
  const { smtpUrl, mailFrom, smsWebhookUrl, smsWebhookSecret } = config.delivery;
  const log = logger.child({ component: 'delivery' });
  // Creating the outbox touches nothing; it writes only when a message reaches it.
  const outbox = createOutbox(config.dataDir, log);
  const byChannel: Record<Channel, Delivery> = {
    email: smtpUrl ? createSmtpDelivery({ url: smtpUrl, from: mailFrom }, log) : outbox,
    sms: smsWebhookUrl ? createSmsDelivery(createWebhookSmsTransport({ url: smsWebhookUrl, secret: smsWebhookSecret }), log) : outbox,
  };
  // Config only lets this happen with ALLOW_DEV_OUTBOX; say it loudly once.
  if (config.production && (!smtpUrl || !smsWebhookUrl)) {
    log.warn({ email: smtpUrl ? 'smtp' : 'outbox', sms: smsWebhookUrl ? 'webhook' : 'outbox' }, 'dev outbox in production: some messages are only written to DATA_DIR/outbox');
  }
  return {
    send: (message) => byChannel[message.channel].send(message),
    async close() {
      await Promise.all([...new Set(Object.values(byChannel))].map((d) => d.close()));
    },
  };
}
