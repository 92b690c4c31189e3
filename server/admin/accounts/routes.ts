// /api/admin/accounts: find, read, block and unblock accounts (issue 11 §3).
import { z } from 'zod';
import type { Knex } from 'knex';
import { InvalidRequest, NotFound } from '../../errors/index.ts';
import { deleteAccount, findAccountById, listAccounts, setAccountStatus, type AccountRow } from '../../accounts/queries.ts';
import { PASSWORD_MAX_LENGTH } from '../../accounts/password-policy.ts';
import { changeIdentifiers, createAccountAsOperator, identifierOf } from './manage.ts';
import type { Identifier } from '../../accounts/identifiers.ts';
import { setAccountRoles } from '../../rbac/roles.ts';
import { forgetConsent } from '../../consents/remembered.ts';
import { requireRoles, roleName } from '../roles/routes.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { queueSecurityNotice, type NoticeDeps } from '../../notifications/security-notices.ts';
import { notifyAccountEvent, notifyIdentifierChange } from '../../notifications/account-changes.ts';
import { page, paging, timestamp, uuidParams } from '../schemas.ts';

export const accountSchema = z.object({
  id: z.string(),
  // Stored values are shown as stored; not re-validated on the way out.
  email: z.string().nullable(),
  email_verified: z.boolean(),
  phone: z.string().nullable(),
  phone_verified: z.boolean(),
  status: z.enum(['active', 'blocked']),
  roles: z.array(z.string()),
  /** Whether a password is set; never the hash. */
  has_password: z.boolean(),
  created_at: timestamp,
});

export function accountOf(row: AccountRow): z.input<typeof accountSchema> {
  return {
    id: row.id,
    email: row.email,
    email_verified: row.email_verified_at !== null,
    phone: row.phone,
    phone_verified: row.phone_verified_at !== null,
    status: row.status,
    roles: row.roles,
    has_password: row.password_hash !== null,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export interface AccountDeps extends NoticeDeps {
  db: Knex;
  config: { defaultPhoneRegion: string };
  /** Ends every session and grant of the account, wherever they are stored (adapters/index.ts). */
  revokeAccount(accountId: string): Promise<void>;
}

async function existing(db: Knex, id: string): Promise<AccountRow> {
  const row = await findAccountById(db, id);
  if (!row) throw new NotFound('no account has this id');
  return row;
}

export function accountRoutes(deps: AccountDeps): AnyRoute[] {
  const { db } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/accounts',
      operationId: 'accounts.list',
      summary: 'Accounts in id order, optionally those whose email contains or whose phone starts with the given text',
      tag: 'accounts',
      query: z.object({
        email: z.string().min(1).max(320).optional().describe('part of the email, any case'),
        phone: z.string().regex(/^\+?[0-9]{1,15}$/, 'must be digits, optionally after +').optional().describe('start of the E.164 phone number'),
        ...paging,
      }),
      response: page(accountSchema),
      status: 200,
      async handler({ query }) {
        // The cursor is the last id of the previous page (opaque to callers).
        const after = query.cursor && /^[0-9a-f-]{36}$/.test(query.cursor) ? query.cursor : undefined;
        if (query.cursor && !after) throw new InvalidRequest('query.cursor: not a cursor this API gave');
        const rows = await listAccounts(db, { email: query.email, phone: query.phone, after, limit: query.limit + 1 });
        const items = rows.slice(0, query.limit);
        return { items: items.map(accountOf), next_cursor: rows.length > query.limit ? items.at(-1)!.id : null };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/accounts',
      operationId: 'accounts.create',
      summary: 'Create an account with an email and/or phone (taken as confirmed), an optional password and roles (409 with existing_id when taken)',
      tag: 'accounts',
      body: z
        .object({
          email: z.string().max(320).optional(),
          phone: z.string().max(32).optional(),
          password: z.string().max(PASSWORD_MAX_LENGTH).optional().describe('checked against the password policy; never stored or logged in the clear'),
          roles: z.array(roleName).max(100).default([]).describe('besides DEFAULT_ROLES'),
        })
        .refine((b) => b.email !== undefined || b.phone !== undefined, 'an email or a phone is required'),
      response: accountSchema,
      status: 201,
      errors: [409],
      audit: ({ body }) => ({ email: body.email !== undefined, phone: body.phone !== undefined, password: body.password !== undefined, roles: body.roles }),
      async handler({ body }) {
        const identifiers = [
          ...(body.email !== undefined ? [identifierOf('email', body.email, deps.config.defaultPhoneRegion)] : []),
          ...(body.phone !== undefined ? [identifierOf('phone', body.phone, deps.config.defaultPhoneRegion)] : []),
        ];
        const roles = [...new Set(body.roles)];
        await requireRoles(db, roles);
        const id = await createAccountAsOperator(db, { identifiers, password: body.password, roles });
        return accountOf(await existing(db, id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/accounts/:id',
      operationId: 'accounts.update',
      summary: 'Set (taken as confirmed) or remove (null) the email and phone; one must remain (409 with existing_id when taken)',
      tag: 'accounts',
      params: uuidParams,
      body: z.object({ email: z.string().max(320).nullable().optional(), phone: z.string().max(32).nullable().optional() }),
      response: accountSchema,
      status: 200,
      errors: [404, 409],
      audit: ({ body }) => ({ changed: Object.keys(body) }),
      async handler({ params, body }) {
        const account = await existing(db, params.id);
        const region = deps.config.defaultPhoneRegion;
        const change = {
          email: body.email === undefined ? undefined : body.email === null ? null : identifierOf('email', body.email, region),
          phone: body.phone === undefined ? undefined : body.phone === null ? null : identifierOf('phone', body.phone, region),
        };
        await changeIdentifiers(db, account, change);
        // Told as when the person does it on /account (issue 13 §2): on the old value and the other
        // confirmed one; no ip, so the notice says an administrator did it. Queued: delivery cannot fail the call.
        for (const kind of ['email', 'phone'] as const) {
          const value = change[kind];
          if (value) await notifyIdentifierChange(deps, { before: account, now: value });
          else if (value === null && account[kind] !== null) {
            await notifyAccountEvent(deps, { account, event: 'identifier.removed', removed: { kind, value: account[kind] } as Identifier });
          }
        }
        return accountOf(await existing(db, params.id));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/accounts/:id',
      operationId: 'accounts.delete',
      summary: 'Delete an account: every session, grant and token it held ends with it',
      tag: 'accounts',
      params: uuidParams,
      status: 204,
      errors: [404],
      async handler({ params }) {
        // The row first: from then on nothing of the account is found (find-account.ts,
        // jwt-access-tokens.ts); then what it held in Redis or the database goes.
        const before = await findAccountById(db, params.id);
        if (!before || !(await deleteAccount(db, params.id))) throw new NotFound('no account has this id');
        await deps.revokeAccount(params.id);
        // To the addresses it had: the job carries them, the account is gone.
        await queueSecurityNotice(deps, { account: before, event: 'account.deleted', origin: {} });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/accounts/:id/sessions/revoke',
      operationId: 'accounts.revokeSessions',
      summary: 'End every session and grant of the account (and so its refresh and access tokens), and forget the consent it gave clients; it may sign in again',
      tag: 'accounts',
      params: uuidParams,
      status: 204,
      errors: [404],
      async handler({ params }) {
        await existing(db, params.id);
        await deps.revokeAccount(params.id);
        // Its grants are gone: no browser may make new ones from the remembered consent (server/oidc/existing-grant.ts).
        await forgetConsent(db, params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/accounts/:id',
      operationId: 'accounts.read',
      summary: 'One account',
      tag: 'accounts',
      params: uuidParams,
      response: accountSchema,
      status: 200,
      errors: [404],
      async handler({ params }) {
        return accountOf(await existing(db, params.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/accounts/:id/block',
      operationId: 'accounts.block',
      summary: 'Block an account: it cannot sign in, and every session, grant and token it holds stops at once',
      tag: 'accounts',
      params: uuidParams,
      response: accountSchema,
      status: 200,
      errors: [404],
      async handler({ params }) {
        // Status first: from then on find-account.ts and jwt-access-tokens.ts refuse
        // the account; then its sessions, grants and stored tokens go (ASVS 3.3.1).
        const before = await existing(db, params.id);
        if (!(await setAccountStatus(db, params.id, 'blocked'))) throw new NotFound('no account has this id');
        await deps.revokeAccount(params.id);
        const after = await existing(db, params.id);
        // Told once, when the status changes (issue 13 §2); queued, so delivery cannot fail the call.
        if (before.status !== 'blocked') await queueSecurityNotice(deps, { account: after, event: 'account.blocked', origin: {} });
        return accountOf(after);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/accounts/:id/unblock',
      operationId: 'accounts.unblock',
      summary: 'Unblock an account: it may sign in again (its old sessions and tokens stay ended)',
      tag: 'accounts',
      params: uuidParams,
      response: accountSchema,
      status: 200,
      errors: [404],
      async handler({ params }) {
        const before = await existing(db, params.id);
        if (!(await setAccountStatus(db, params.id, 'active'))) throw new NotFound('no account has this id');
        const after = await existing(db, params.id);
        if (before.status !== 'active') await queueSecurityNotice(deps, { account: after, event: 'account.unblocked', origin: {} });
        return accountOf(after);
      },
    }),
    defineRoute({
      method: 'put',
      path: '/accounts/:id/roles',
      operationId: 'accounts.setRoles',
      summary: 'Replace the roles an account holds (each must exist); applies to its next token, and to this API at once',
      tag: 'accounts',
      params: uuidParams,
      body: z.object({ roles: z.array(roleName).max(100) }),
      response: accountSchema,
      status: 200,
      errors: [404],
      audit: ({ body }) => ({ roles: body.roles }),
      async handler({ params, body }) {
        await existing(db, params.id);
        const roles = [...new Set(body.roles)];
        await requireRoles(db, roles);
        await setAccountRoles(db, params.id, roles);
        return accountOf(await existing(db, params.id));
      },
    }),
  ];
}
