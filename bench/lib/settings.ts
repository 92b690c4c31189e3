// What the Enot ID server and the bare oidc-provider reference share, so the
// reference issues the same tokens: resources, scopes, lifetimes, the client.

/** Enot ID's DEFAULT_RESOURCE (JWT, ES256). */
export const JWT_RESOURCE = { identifier: 'urn:enot-id:api', scope: 'api:read api:write', accessTokenFormat: 'jwt' as const };
/** A further resource configured for opaque access tokens (RESOURCE_SERVERS). */
export const OPAQUE_RESOURCE = { identifier: 'urn:bench:opaque', scope: 'opaque:read', accessTokenFormat: 'opaque' as const };
export const RESOURCES = [JWT_RESOURCE, OPAQUE_RESOURCE];

/** Enot ID's defaults (ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL). */
export const ACCESS_TOKEN_TTL = 900;
export const REFRESH_TOKEN_TTL = 604_800;

export const REDIRECT_URI = 'https://rp.bench.test/callback';
export const CLIENT_SCOPE = 'openid email offline_access api:read api:write opaque:read';
export const INITIAL_ACCESS_TOKEN = 'bench-initial-access-token-0123456789abcdef';

/** The bare reference's static client (Enot ID's is registered dynamically). */
export const BARE_CLIENT = { clientId: 'bench-client', clientSecret: 'bench-client-secret-0123456789abcdef0123456789' };

export const PASSWORD = 'a benchmark passphrase 2024';
export const passwordAccount = (i: number) => `bench-pw-${i}@example.com`;
export const codeAccount = (i: number) => `bench-code-${i}@example.com`;

/** Accounts seeded for the growth part (bench/seed.ts): `bench-seed-<n>@example.com`, all with PASSWORD. */
export const SEEDED_EMAIL = { before: 'bench-seed-', after: '@example.com' };
export const seededAccount = (n: number) => `${SEEDED_EMAIL.before}${n}${SEEDED_EMAIL.after}`;
