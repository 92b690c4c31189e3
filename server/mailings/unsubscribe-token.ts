// The unsubscribe link's token: the account id and an HMAC of it under the
// first cookie key, so a link works without signing in and cannot be made up
// for another account (RFC 8058 §3: the URI must identify the recipient itself).
import { createHmac, timingSafeEqual } from 'node:crypto';

const PURPOSE = 'enot-id mailing unsubscribe\u0000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const mac = (key: string, accountId: string) => createHmac('sha256', key).update(PURPOSE + accountId).digest('base64url');

export function unsubscribeToken(key: string, accountId: string): string {
  return `${accountId}.${mac(key, accountId)}`;
}

/** The account id of a valid token, checked against every cookie key (rotation). */
export function verifyUnsubscribeToken(keys: string[], token: string): string | undefined {
  const [accountId, given] = token.split('.');
  if (!accountId || !given || !UUID.test(accountId)) return undefined;
  const givenBytes = Buffer.from(given);
  for (const key of keys) {
    const expected = Buffer.from(mac(key, accountId));
    if (expected.length === givenBytes.length && timingSafeEqual(expected, givenBytes)) return accountId;
  }
  return undefined;
}
