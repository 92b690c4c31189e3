// The instance's name in its own messages (codes, security notices): the copy is
// written with the default name, and an instance with BRAND_NAME (server/config/)
// gets its own in the subject, the text and the HTML (escaped there). Mailings are the
// operator's own words and are not touched.
import type { OutgoingMessage } from '../../server/delivery/types.ts';
import { DEFAULT_BRAND } from '../brand.ts';
import { escapeHtml } from '../html.ts';

export function branded(message: OutgoingMessage, name: string): OutgoingMessage {
  if (name === DEFAULT_BRAND.name) return message;
  const swap = (text: string, to: string) => text.replaceAll(DEFAULT_BRAND.name, to);
  return {
    ...message,
    ...(message.subject !== undefined && { subject: swap(message.subject, name) }),
    text: swap(message.text, name),
    ...(message.html !== undefined && { html: swap(message.html, escapeHtml(name)) }),
  };
}
