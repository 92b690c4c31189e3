export type Channel = 'email' | 'sms';

/** One message for one recipient; `subject` and `html` are for email only. */
export interface OutgoingMessage {
  channel: Channel;
  to: string;
  subject?: string;
  text: string;
  html?: string;
}

/** Hands messages to mail or SMS. `send` throws DeliveryFailed on any transport failure. */
export interface Delivery {
  send(message: OutgoingMessage): Promise<void>;
  close(): Promise<void>;
}

/**
 * An SMS provider. Implementations throw on failure with a message that is safe to
 * log (no recipient, no text); the caller maps every failure to DeliveryFailed.
 */
export interface SmsTransport {
  readonly name: string;
  send(sms: { to: string; text: string }): Promise<void>;
  close?(): Promise<void>;
}
