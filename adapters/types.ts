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

/** How long to keep an instance that oidc-provider says lives `expiresIn` seconds. */
export function keptFor(model: string, expiresIn: number | undefined): number | undefined {
  return expiresIn && model === 'DeviceCode' ? expiresIn + DEVICE_CODE_GRACE_SECONDS : expiresIn;
}
