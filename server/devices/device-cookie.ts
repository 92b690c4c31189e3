// The known-device cookie: a random id, set on every successful sign-in and
// kept a year (OWASP "Slow down online guessing attacks with device cookies").
// Signed with the app's cookie keys (koa signed cookies, HMAC-SHA-256), so a
// browser cannot make one up; httpOnly, so scripts cannot read it; SameSite=Lax,
// as the sign-in pages are reached by top-level navigation.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

export const DEVICE_COOKIE = 'enot_device';
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** How long a device cookie lives after its last sign-in: a known device not seen for longer is forgotten. */
export const DEVICE_COOKIE_LIFETIME_MS = YEAR_MS;
/** 128 random bits, base64url. */
const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/;

/** The device id of this browser, when it carries a validly signed one. */
export function readDeviceId(ctx: Context): string | undefined {
  const value = ctx.cookies.get(DEVICE_COOKIE, { signed: true });
  return value && DEVICE_ID.test(value) ? value : undefined;
}

/** This browser's device id; a new one is made when it has none. The cookie is (re)set for another year. */
export function keepDeviceId(ctx: Context): string {
  const deviceId = readDeviceId(ctx) ?? randomBytes(16).toString('base64url');
  ctx.cookies.set(DEVICE_COOKIE, deviceId, {
    signed: true, httpOnly: true, sameSite: 'lax', path: '/', maxAge: YEAR_MS, secure: ctx.secure, overwrite: true,
  });
  return deviceId;
}

/** Who asks for something limited: the address and, when it has one, the device cookie's id. */
export interface Requester {
  ip: string;
  deviceId?: string;
  /** For the audit record of what was asked (audit/security-event.ts). */
  userAgent?: string;
}

export function requesterOf(ctx: Context): Requester {
  return { ip: ctx.ip, deviceId: readDeviceId(ctx), userAgent: ctx.get('user-agent') || undefined };
}
