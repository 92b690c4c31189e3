// Known devices: browsers that have signed in to an account, each named by the
// random id in its device cookie (./device-cookie.ts). OWASP "Slow down online
// guessing attacks with device cookies": failures from a person's own known
// browsers are counted apart from everyone else's, so an attacker cannot lock
// them out (NIST SP 800-63B §5.2.2, ASVS V2.2.1). Kept per account; the same
// rows will drive "sign-in from a new device" notices.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Identifier } from '../accounts/identifiers.ts';
import { findAccountByIdentifier } from '../accounts/queries.ts';
import { deletedCount } from '../db/deleted-count.ts';
import { DEVICE_COOKIE_LIFETIME_MS } from './device-cookie.ts';

const TABLE = 'known_devices';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Compared with when there is no account, so a lookup costs the same either way. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';
/** Longer user agents are cut: only shown to the person (later), never parsed. */
const USER_AGENT_MAX = 512;

/** Only the hash is stored: a database read does not give out working device cookies. */
const deviceHash = (deviceId: string) => createHash('sha256').update(deviceId).digest('base64url');

/** Records that `deviceId` signed in to the account now (first seen once, last seen every time). */
export async function remember(db: Knex, accountId: string, deviceId: string, userAgent: string): Promise<void> {
  const now = new Date();
  await db(TABLE)
    .insert({ account_id: accountId, device_hash: deviceHash(deviceId), first_seen: now, last_seen: now, user_agent: userAgent.slice(0, USER_AGENT_MAX) })
    .onConflict(['account_id', 'device_hash'])
    .merge(['last_seen', 'user_agent']);
}

/** Whether `deviceId` has signed in to the account before. */
export async function isKnown(db: Knex, accountId: string, deviceId: string): Promise<boolean> {
  const row = await db(TABLE)
    .first('account_id')
    .where({ account_id: UUID.test(accountId) ? accountId : NO_ACCOUNT, device_hash: deviceHash(deviceId) });
  return row !== undefined;
}

/** Whether the account has signed in from any browser before (none: its first sign-in). */
export async function hasKnownDevices(db: Knex, accountId: string): Promise<boolean> {
  const row = await db(TABLE).first('account_id').where({ account_id: UUID.test(accountId) ? accountId : NO_ACCOUNT });
  return row !== undefined;
}

/**
 * The device id when it is a known device of the account holding `identifier`;
 * otherwise undefined (no cookie, no such account, or a device of another account).
 */
export async function knownDeviceOf(db: Knex, identifier: Identifier, deviceId: string | undefined): Promise<string | undefined> {
  if (!deviceId) return undefined;
  const account = await findAccountByIdentifier(db, identifier);
  return (await isKnown(db, account?.id ?? NO_ACCOUNT, deviceId)) ? deviceId : undefined;
}

/**
 * Forgets the devices not seen for longer than a device cookie lives (a year after its
 * last sign-in): their cookies are gone, so the rows could never match again. Run with
 * the other purges (server/server.ts).
 */
export async function purgeKnownDevices(db: Knex, now = Date.now()): Promise<number> {
  return deletedCount(await db(TABLE).where('last_seen', '<', new Date(now - DEVICE_COOKIE_LIFETIME_MS)).delete());
}
