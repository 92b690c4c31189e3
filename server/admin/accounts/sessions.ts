// /api/admin/accounts/:id/sessions and /grants: what an account holds at
// oidc-provider (its browser sessions, and the grants clients hold: scopes and
// resources, behind every refresh and access token). Revoking a grant revokes
// every token and code issued under it (RFC 7009 §2.1 does the same for a
// refresh token) and forgets the consent the person gave its client; ending a
// session signs that browser out.
import { z } from 'zod';
import type { Knex } from 'knex';
import type { AdapterFactory } from '../../../adapters/types.ts';
import type { JwtAccessTokens } from '../../oidc/jwt-access-tokens.ts';
import type { Runtime } from '../../runtime.ts';
import { NotFound } from '../../errors/index.ts';
import { forgetConsent } from '../../consents/remembered.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { timestamp, uuidParams } from '../schemas.ts';

const seconds = (value: unknown) => (typeof value === 'number' ? new Date(value * 1000).toISOString() : null);

const sessionSchema = z.object({
  id: z.string(),
  signed_in_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
  clients: z.array(z.string()).describe('clients the person used in this session'),
});

const grantSchema = z.object({
  id: z.string(),
  client_id: z.string(),
  scope: z.string().describe('OIDC scopes granted'),
  resources: z.record(z.string(), z.string()).describe('resource indicator → scopes granted for it'),
  issued_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
});

const modelId = z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'must be an id this API gave');

export interface SessionDeps {
  db: Knex;
  accountModels: Runtime['accountModels'];
  adapters: AdapterFactory;
  provider: { accessTokens: JwtAccessTokens };
}

export function sessionRoutes(deps: SessionDeps): AnyRoute[] {
  const owned = async (accountId: string, model: 'Session' | 'Grant', id: string) => {
    const found = (await deps.accountModels(accountId, model)).find((m) => m.id === id);
    if (!found) throw new NotFound(`the account has no such ${model.toLowerCase()}`);
    return found;
  };
  return [
    defineRoute({
      method: 'get', path: '/accounts/:id/sessions', operationId: 'accounts.listSessions', summary: 'The account\'s live sessions', tag: 'accounts',
      params: uuidParams, response: z.object({ items: z.array(sessionSchema) }), status: 200,
      async handler({ params }) {
        const sessions = await deps.accountModels(params.id, 'Session');
        return {
          items: sessions.map(({ id, payload }) => ({
            id,
            signed_in_at: seconds(payload.loginTs),
            expires_at: seconds(payload.exp),
            clients: Object.keys((payload.authorizations as Record<string, unknown> | undefined) ?? {}),
          })),
        };
      },
    }),
    defineRoute({
      method: 'delete', path: '/accounts/:id/sessions/:session', operationId: 'accounts.endSession',
      summary: 'Sign one session out (the grants clients hold stay; revoke those separately)', tag: 'accounts',
      params: uuidParams.extend({ session: modelId }), status: 204, errors: [404],
      async handler({ params }) {
        await owned(params.id, 'Session', params.session);
        await deps.adapters('Session').destroy(params.session);
      },
    }),
    defineRoute({
      method: 'get', path: '/accounts/:id/grants', operationId: 'accounts.listGrants', summary: 'The grants clients hold for the account', tag: 'accounts',
      params: uuidParams, response: z.object({ items: z.array(grantSchema) }), status: 200,
      async handler({ params }) {
        const grants = await deps.accountModels(params.id, 'Grant');
        return {
          items: grants.map(({ id, payload }) => ({
            id,
            client_id: String(payload.clientId ?? ''),
            scope: String((payload.openid as { scope?: string } | undefined)?.scope ?? ''),
            resources: Object.fromEntries(Object.entries((payload.resources as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)])),
            issued_at: seconds(payload.iat),
            expires_at: seconds(payload.exp),
          })),
        };
      },
    }),
    defineRoute({
      method: 'delete', path: '/accounts/:id/grants/:grant', operationId: 'accounts.revokeGrant',
      summary: 'Revoke one grant with every refresh and access token issued under it, and forget the consent the account gave its client', tag: 'accounts',
      params: uuidParams.extend({ grant: modelId }), status: 204, errors: [404],
      async handler({ params }) {
        const grant = await owned(params.id, 'Grant', params.grant);
        await deps.provider.accessTokens.revokeGrant(params.grant);
        // Or the next sign-in to that client, in any browser, would make the grant again (server/oidc/existing-grant.ts).
        if (typeof grant.payload.clientId === 'string') await forgetConsent(deps.db, params.id, grant.payload.clientId);
      },
    }),
  ];
}
