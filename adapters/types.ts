// The oidc-provider adapter contract (see oidc-provider's example/my_adapter.js):
// one instance per model name; `payload` is opaque JSON owned by the library.
import type { Adapter, AdapterPayload } from 'oidc-provider';

export type { Adapter, AdapterPayload };

export type AdapterFactory = (model: string) => Adapter;

/** Models that must outlive any cache: registered clients and their access tokens. */
export const DURABLE_MODELS = new Set(['Client', 'InitialAccessToken', 'RegistrationAccessToken']);

/** Database timestamps as the epoch seconds oidc-provider uses. */
export const epochSeconds = (date: Date | string | number) => Math.floor(new Date(date).getTime() / 1000);
