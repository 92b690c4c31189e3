// The single-request scenarios' requests, shared by the main scenarios, growth
// and scale-out, so every part sends exactly the same bytes.
import type autocannon from 'autocannon';
import { FORM, basicAuth, type Target } from './flows.ts';
import type { PacedRequest } from './paced.ts';
import { JWT_RESOURCE } from './settings.ts';

type Request = autocannon.Request;

/** The same request over and over. */
export const statics = (request: PacedRequest) => () => [request as Request];

/** The next request of `make(0)`, `make(1)`, … in turn, one per request sent (a pool of tokens, round robin). */
export function rotating(count: number, make: (i: number) => PacedRequest) {
  let next = 0;
  return () => [
    {
      setupRequest(request) {
        return { ...request, ...make(next++ % count) } as Request;
      },
    } satisfies Request,
  ];
}

export function tokenRequest(target: Target, body: Record<string, string>): PacedRequest {
  return {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': FORM, accept: 'application/json', authorization: basicAuth(target.clientId, target.clientSecret) },
    body: new URLSearchParams(body).toString(),
  };
}

export const clientCredentials = (target: Target) =>
  tokenRequest(target, { grant_type: 'client_credentials', scope: 'api:read', resource: JWT_RESOURCE.identifier });

export function introspection(target: Target, token: string): PacedRequest {
  return { ...tokenRequest(target, { token }), path: '/token/introspection' };
}

export const get = (pathname: string, headers: Record<string, string> = {}): PacedRequest => ({
  method: 'GET', path: pathname, headers: { accept: 'application/json', ...headers },
});

/** One request with fetch (probes and checks, not measured): status and JSON body. */
export async function send(origin: string, request: PacedRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(origin + request.path, { method: request.method, headers: request.headers, body: request.body });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text: text.slice(0, 200) };
  }
  return { status: response.status, body };
}
