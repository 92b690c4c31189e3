// The account page signs people in through the provider itself, as a public
// first-party client; it is registered at start and never asks for consent.
import type { Adapter } from '../../adapters/types.ts';

export const ACCOUNT_CLIENT_ID = 'enot-id-account';

export async function registerAccountClient(clients: Adapter, issuer: string): Promise<void> {
  await clients.upsert(ACCOUNT_CLIENT_ID, {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Enot ID account',
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/account`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid',
    first_party: true,
  });
}
