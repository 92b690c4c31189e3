// Cross-device QR sign-in as a state machine stored in the database, so the
// desktop and the phone may talk to different server processes.
//
//   pending --scan--> scanned --approve--> approved --complete--> completed
//                        \--deny--> denied
//   any state --(2 minutes)--> expired (by expires_at; no row change needed)
//
// QRLJacking (OWASP) is the threat: the token is single-use (the first scan
// claims it, a second device gets nothing), short-lived, bound to one desktop
// interaction, and the phone always shows what it is approving.
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../errors/index.ts';

/** RFC 8628 §5.2-style short lifetime for a code shown on a screen: 2 minutes, renewed by the page. */
export const QR_TTL_SECONDS = 120;

export type QrState = 'pending' | 'scanned' | 'approved' | 'denied' | 'completed' | 'expired';

export interface QrLogin {
  id: string;
  interactionUid: string;
  clientId: string;
  state: QrState;
  desktopIp: string;
  desktopUserAgent: string;
  scannedBy: string | null;
  accountId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export class QrLoginUnavailable extends AppError {
  constructor() {
    super(400, 'qr_unavailable', 'this QR code has expired or was already used; show a new one on the computer');
  }
}

// At least 128 bits from a CSPRNG (OWASP ASVS V3.2.2).
const newSecret = () => randomBytes(16).toString('base64url');
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

interface Row {
  id: string;
  interaction_uid: string;
  client_id: string;
  state: Exclude<QrState, 'expired'>;
  desktop_ip: string;
  desktop_user_agent: string;
  scanned_by: string | null;
  account_id: string | null;
  created_at: Date;
  expires_at: Date;
}

export function qrLogins(db: Knex, now: () => number = Date.now) {
  function fromRow(row: Row): QrLogin {
    const expiresAt = new Date(row.expires_at);
    const finished = row.state === 'completed' || row.state === 'denied';
    return {
      id: row.id,
      interactionUid: row.interaction_uid,
      clientId: row.client_id,
      state: !finished && expiresAt.getTime() <= now() ? 'expired' : row.state,
      desktopIp: row.desktop_ip,
      desktopUserAgent: row.desktop_user_agent,
      scannedBy: row.scanned_by,
      accountId: row.account_id,
      createdAt: new Date(row.created_at),
      expiresAt,
    };
  }

  /** Moves `from` → `to` only if still live and in `from`: one winner across processes. */
  async function move(where: Record<string, string>, from: QrState, to: QrState, set: Record<string, unknown> = {}): Promise<QrLogin | undefined> {
    const [row] = await db('qr_logins')
      .where({ ...where, state: from })
      .andWhere('expires_at', '>', new Date(now()))
      .update({ state: to, ...set })
      .returning('*');
    return row ? fromRow(row as Row) : undefined;
  }

  return {
    /**
     * A new QR for a desktop interaction; returns the secret token (for the QR)
     * and the record. It retires the interaction's earlier QRs nobody has
     * scanned yet: only the QR on the screen now can be used (QRLJacking: an
     * old QR photographed or sent on must not stay valid for its 2 minutes).
     */
    async create(input: { interactionUid: string; clientId: string; ip: string; userAgent: string }): Promise<{ token: string; login: QrLogin }> {
      const token = newSecret();
      const id = newSecret();
      // Both at once (one round trip's wait); the new row is never among the retired.
      const [, [row]] = await Promise.all([
        db('qr_logins')
          .where({ interaction_uid: input.interactionUid, state: 'pending' })
          .andWhere('expires_at', '>', new Date(now()))
          .andWhereNot({ id })
          .update({ expires_at: new Date(now()) }),
        db('qr_logins')
          .insert({
            id,
            token_hash: hashOf(token),
            interaction_uid: input.interactionUid,
            client_id: input.clientId,
            state: 'pending',
            desktop_ip: input.ip.slice(0, 64),
            desktop_user_agent: input.userAgent.slice(0, 512),
            created_at: new Date(now()),
            expires_at: new Date(now() + QR_TTL_SECONDS * 1000),
          })
          .returning('*'),
      ]);
      return { token, login: fromRow(row as Row) };
    },

    /** The desktop's view: by id, only within its own interaction. */
    async forDesktop(id: string, interactionUid: string): Promise<QrLogin> {
      if (!TOKEN.test(id)) throw new QrLoginUnavailable();
      const row = (await db('qr_logins').where({ id, interaction_uid: interactionUid }).first()) as Row | undefined;
      if (!row) throw new QrLoginUnavailable();
      return fromRow(row);
    },

    /**
     * The phone's first look: claims a pending token for this phone (session or
     * account). Scanning again from the same phone shows it again; any other
     * device gets QrLoginUnavailable.
     */
    async scan(token: string, scannedBy: string): Promise<QrLogin> {
      if (!TOKEN.test(token)) throw new QrLoginUnavailable();
      const claimed = await move({ token_hash: hashOf(token) }, 'pending', 'scanned', { scanned_by: scannedBy });
      if (claimed) return claimed;
      const row = (await db('qr_logins').where({ token_hash: hashOf(token) }).first()) as Row | undefined;
      const login = row && fromRow(row);
      if (!login || login.scannedBy !== scannedBy || login.state !== 'scanned') throw new QrLoginUnavailable();
      return login;
    },

    async approve(token: string, scannedBy: string, accountId: string): Promise<QrLogin> {
      if (!TOKEN.test(token)) throw new QrLoginUnavailable();
      // A minute for the desktop to notice, even if the QR was about to expire.
      const done = await move({ token_hash: hashOf(token), scanned_by: scannedBy }, 'scanned', 'approved', {
        account_id: accountId,
        expires_at: new Date(now() + 60_000),
      });
      if (!done) throw new QrLoginUnavailable();
      return done;
    },

    async deny(token: string, scannedBy: string): Promise<QrLogin> {
      if (!TOKEN.test(token)) throw new QrLoginUnavailable();
      const done = await move({ token_hash: hashOf(token), scanned_by: scannedBy }, 'scanned', 'denied');
      if (!done) throw new QrLoginUnavailable();
      return done;
    },

    /** The desktop takes an approved login, once. */
    async complete(id: string, interactionUid: string): Promise<QrLogin> {
      const done = await move({ id, interaction_uid: interactionUid }, 'approved', 'completed');
      if (!done?.accountId) throw new QrLoginUnavailable();
      return done;
    },

    async purgeExpired(): Promise<void> {
      await db('qr_logins').where('expires_at', '<', new Date(now() - 3600_000)).delete();
    },
  };
}

export type QrLogins = ReturnType<typeof qrLogins>;
