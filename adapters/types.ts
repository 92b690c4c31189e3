// The oidc-provider adapter contract (see oidc-provider's example/my_adapter.js):
// one instance per model name; `payload` is opaque JSON owned by the library.
import type { Adapter, AdapterPayload } from 'oidc-provider';

export type { Adapter, AdapterPayload };

export type AdapterFactory = (model: string) => Adapter;

/** Models that must outlive any cache: registered clients and their access tokens. */
export const DURABLE_MODELS = new Set(['Client', 'InitialAccessToken', 'RegistrationAccessToken']);

/** Database timestamps as the epoch seconds oidc-provider uses. */
export const epochSeconds = (date: Date | string | number) => Math.floor(new Date(date).getTime() / 1000);

/**
 * RFC 8628 §3.5: a device that polls with an expired device code gets
 * `expired_token`. oidc-provider answers so only when it still finds the code (it
 * reads it ignoring expiry and compares `exp` itself; every other read refuses an
 * expired one), so both adapters keep device codes this much longer than they live.
 */
export const DEVICE_CODE_GRACE_SECONDS = 600;

/**
 * RFC 6749 §5.2: a client that presents an expired authorization code or refresh
 * token is told so ("authorization code expired", server/oidc/grant-error-descriptions.ts),
 * not that it does not exist. oidc-provider tells the two apart only while it still
 * finds the expired one (read ignoring expiry, as for device codes above), so both
 * adapters keep them this much longer. Every other read refuses an expired one.
 */
export const EXPIRED_GRANT_SOURCE_GRACE_SECONDS = 600;

const KEPT_PAST_EXPIRY: Record<string, number> = {
  DeviceCode: DEVICE_CODE_GRACE_SECONDS,
  AuthorizationCode: EXPIRED_GRANT_SOURCE_GRACE_SECONDS,
  RefreshToken: EXPIRED_GRANT_SOURCE_GRACE_SECONDS,
};

/** How long to keep an instance that oidc-provider says lives `expiresIn` seconds. */
export function keptFor(model: string, expiresIn: number | undefined): number | undefined {
  return expiresIn ? expiresIn + (KEPT_PAST_EXPIRY[model] ?? 0) : expiresIn;
}
