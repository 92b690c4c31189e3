// /api/admin/initial-access-tokens: credentials for dynamic client registration
// (RFC 7591 §3), for operators who let a team register its own clients.
import { z } from 'zod';
import type Provider from 'oidc-provider';
import { defineRoute, type AnyRoute } from '../guard.ts';

// A day unless told otherwise: a registration credential should not lie around forever.
export const DEFAULT_EXPIRES_IN = 86_400;
export const MAX_EXPIRES_IN = 31_536_000;

export function initialAccessTokenRoutes(deps: { provider: { current: Provider } }): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/initial-access-tokens', operationId: 'initialAccessTokens.create',
      summary: 'A token for dynamic client registration (RFC 7591 §3): POST ISSUER/reg with "Authorization: Bearer <token>"', tag: 'registration',
      body: z.object({ expires_in: z.number().int().min(1).max(MAX_EXPIRES_IN).default(DEFAULT_EXPIRES_IN).describe('seconds') }),
      response: z.object({ initial_access_token: z.string().describe('shown only in this response'), expires_in: z.number().int() }),
      status: 201,
      audit: ({ body }) => ({ expires_in: body.expires_in }),
      async handler({ body }) {
        const token = await new deps.provider.current.InitialAccessToken({ expiresIn: body.expires_in }).save();
        return { initial_access_token: token, expires_in: body.expires_in };
      },
    }),
  ];
}
