// Security events of the browser and app flows (issue 11 §3): sign-ins, codes
// sent, password and identifier changes, step-ups, QR decisions, refresh token
// replays (ASVS 7.2.1/7.2.2: authentication events and changes to credentials,
// success and failure). Callers pass ids, channels and methods, never a password,
// code, token or address (ASVS 7.1.1; record.ts drops secret-looking keys again).
import type { Knex } from 'knex';
import type { Logger } from '../logging/logger.ts';
import { recordAudit, type Outcome } from './record.ts';

export type SecurityAction =
  | 'sign_in.password'
  | 'sign_in.code'
  | 'sign_in.qr'
  | 'code.sent'
  | 'password.changed'
  | 'identifier.changed'
  | 'reauth'
  | 'refresh_token.replayed'
  | 'qr.approved'
  | 'qr.denied'
  // Account self-service (/account, issue 13 §1).
  | 'password.removed'
  | 'identifier.removed'
  | 'account.language'
  | 'session.ended'
  | 'app.revoked'
  | 'account.deleted';

export interface SecurityEvent {
  action: SecurityAction;
  outcome: Outcome;
  /** The account that proved itself in this request; none means an anonymous actor. */
  actorAccountId?: string | null;
  /** The account the event is about (a failed sign-in's account, for instance); defaults to the actor. */
  targetAccountId?: string | null;
  details?: Record<string, unknown>;
}

/** Where a request came from: koa's ctx (an oidc-provider event's too), or its address and user agent. */
export type RequestOrigin = { ip: string; get(header: string): string } | { ip: string; userAgent?: string };

const userAgentOf = (origin: RequestOrigin) => ('get' in origin ? origin.get('user-agent') : origin.userAgent) || null;

/**
 * Writes the event; never throws. Unlike an admin call (answered 503 when it
 * cannot be audited, admin/guard.ts), a sign-in must not fail because the audit
 * table could not be written: the miss is logged as a warning instead.
 */
export async function auditSecurityEvent(deps: { db: Knex; logger: Logger }, origin: RequestOrigin | undefined, event: SecurityEvent): Promise<void> {
  const targetId = event.targetAccountId ?? event.actorAccountId ?? null;
  try {
    await recordAudit(deps.db, {
      actor: event.actorAccountId ? { kind: 'account', id: event.actorAccountId } : { kind: 'anonymous' },
      action: event.action,
      target: targetId ? { kind: 'account', id: targetId } : null,
      ip: origin?.ip ?? null,
      userAgent: origin ? userAgentOf(origin) : null,
      outcome: event.outcome,
      details: event.details,
    });
  } catch (err) {
    deps.logger.warn({ err, action: event.action, outcome: event.outcome }, 'audit record not written');
  }
}
