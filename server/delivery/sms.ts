import type { Logger } from '../logging/logger.ts';
import { DeliveryFailed } from '../errors/index.ts';
import type { Delivery, OutgoingMessage, SmsTransport } from './types.ts';

/** Any SmsTransport as a Delivery: failures are logged without the text and become DeliveryFailed. */
export function createSmsDelivery(transport: SmsTransport, logger: Logger): Delivery {
  return {
    async send(message: OutgoingMessage) {
      try {
        await transport.send({ to: message.to, text: message.text });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        logger.warn({ transport: transport.name, channel: message.channel, reason }, 'delivery failed');
        throw new DeliveryFailed();
      }
    },
    async close() {
      await transport.close?.();
    },
  };
}
