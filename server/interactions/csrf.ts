import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidRequest } from '../errors/index.ts';

// Double protection beside oidc-provider's SameSite interaction cookie: every
// form carries an HMAC of the interaction id (OWASP CSRF Cheat Sheet, HMAC
// token pattern), so a form from one interaction cannot post to another.
export function csrfTokens(secret: string) {
  const tokenFor = (uid: string) => createHmac('sha256', secret).update(`csrf:${uid}`).digest('base64url');
  return {
    tokenFor,
    check(uid: string, presented: string): void {
      const expected = Buffer.from(tokenFor(uid));
      const given = Buffer.from(presented);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new InvalidRequest('the form has expired or was not sent by this page; go back and try again');
      }
    },
  };
}
