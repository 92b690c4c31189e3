// What the sessions list on /account shows about each browser session besides
// what oidc-provider keeps (its Session payload is a fixed list of properties):
// the browser's user agent and IP address, and when the session was last used.
// Written when the provider answers an authorization through a signed-in
// session (a sign-in, or an app signing in through it), and when /account is
// used; kept in the database in both storage modes (table `session_devices`,
// migration 020), so it is found by the session's uid wherever the session lives.
import type { Knex } from 'knex';
import type { Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { deletedCount } from '../db/deleted-count.ts';

/** Longer user agents are cut: they are only shown, parsed for the browser and OS. */
const USER_AGENT_MAX = 512;
/** /account pages refresh "last used" at most this often per session. */
const TOUCH_EVERY_SECONDS = 60;

export interface SessionDevice {
  session_uid: string;
  user_agent: string;
  ip: string;
  signed_in_at: Date;
  last_used_at: Date;
}

/** Records the browser of a signed-in session now (its sign-in time from oidc-provider's `loginTs`). */
export async function recordSessionDevice(
  db: Knex,
  input: { sessionUid: string; accountId: string; userAgent: string; ip: string; signedInAt: Date },
): Promise<void> {
  const now = new Date();
  try {
    await db('session_devices')
      .insert({
        session_uid: input.sessionUid, account_id: input.accountId, user_agent: input.userAgent.slice(0, USER_AGENT_MAX),
        ip: input.ip, signed_in_at: input.signedInAt, last_used_at: now,
      })
      .onConflict('session_uid')
      .merge();
  } catch (err) {
    // 23503 foreign_key_violation: the account was deleted meanwhile; there is nothing to show it to.
    if ((err as { code?: string }).code !== '23503') throw err;
  }
}

/** Marks the session used now (an /account page), at most once a minute. */
export async function touchSessionDevice(db: Knex, sessionUid: string): Promise<void> {
  await db('session_devices')
    .where({ session_uid: sessionUid })
    .andWhere('last_used_at', '<', new Date(Date.now() - TOUCH_EVERY_SECONDS * 1000))
    .update({ last_used_at: new Date() });
}

/** The account's recorded browsers by session uid; rows of sessions no longer in `liveUids` are deleted. */
export async function sessionDevicesOf(db: Knex, accountId: string, liveUids: string[]): Promise<Map<string, SessionDevice>> {
  await db('session_devices').where({ account_id: accountId }).whereNotIn('session_uid', liveUids.length ? liveUids : ['']).delete();
  const rows = (await db('session_devices').select('session_uid', 'user_agent', 'ip', 'signed_in_at', 'last_used_at').where({ account_id: accountId })) as SessionDevice[];
  return new Map(rows.map((row) => [row.session_uid, row]));
}

/** Deletes rows unused for longer than a session can live (REFRESH_TOKEN_TTL); run by the periodic purge. */
export async function purgeSessionDevices(db: Knex, sessionTtlSeconds: number): Promise<number> {
  return deletedCount(await db('session_devices').where('last_used_at', '<', new Date(Date.now() - sessionTtlSeconds * 1000)).delete());
}

/**
 * oidc-provider middleware: after an authorization (or its resume after sign-in)
 * answered through a signed-in session, records that session's browser. Awaited
 * before the answer goes out, so the sessions list shows it at once.
 */
export function sessionDeviceRecorder(db: Knex) {
  return async function recordSessionBrowser(ctx: KoaContextWithOIDC, next: Next): Promise<void> {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'authorization' && route !== 'resume') return;
    if (ctx.status >= 400) return;
    const session = ctx.oidc.session as (typeof ctx.oidc.session & { destroyed?: boolean }) | undefined;
    if (!session?.accountId || !session.uid || session.destroyed) return;
    await recordSessionDevice(db, {
      sessionUid: session.uid,
      accountId: session.accountId,
      userAgent: ctx.get('user-agent'),
      ip: ctx.ip,
      signedInAt: new Date((session.loginTs ?? Math.floor(Date.now() / 1000)) * 1000),
    });
  };
}
