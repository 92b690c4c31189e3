// How a CLI command reaches the admin API (issue 11 §4):
// - embedded mode with a server running (it holds DATA_DIR/pg.lock): over HTTP
//   to that server, with the credential it wrote for the local operator
//   (server/admin/operator-credential.ts), as Keycloak's kcadm.sh does;
// - otherwise (DATABASE_URL, or no server on the data directory): the same
//   routes run in this process (server/admin/local.ts), on storage the CLI opens.
// Either way a command's request, validation, answer and audit record are the
// admin API's own; only the actor differs (the operator client, or 'operator').
import { userInfo } from 'node:os';
import type { Config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { readOperatorCredential, type OperatorCredential } from '../admin/operator-credential.ts';
import { localAdmin, type AdminCaller, type AdminRequest } from '../admin/local.ts';
import type { AdminDeps } from '../admin/router.ts';
import { ADMIN_SCOPE } from '../rbac/bootstrap.ts';

/** The admin API answered with an error: its code and description, as the CLI prints them. */
export class AdminApiError extends AppError {}

/** The path of a route as declared (`/accounts/:id`) with its parameters filled in. */
export function concretePath(request: AdminRequest): string {
  return request.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = request.params?.[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${request.path}`);
    return encodeURIComponent(value);
  });
}

async function answerOf(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { error: 'server_error', error_description: `the server answered ${response.status} with a body that is not JSON` };
  }
}

/** fetch, with a failure to connect said in the operator's words. */
async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new AppError(503, 'temporarily_unavailable', `could not reach the running server at ${new URL(url).origin} (${cause})`);
  }
}

/** A client-credentials token for the admin API (RFC 6749 §4.4, RFC 8707 resource). */
async function operatorToken(credential: OperatorCredential): Promise<string> {
  const basic = Buffer.from(`${encodeURIComponent(credential.client_id)}:${encodeURIComponent(credential.client_secret)}`).toString('base64');
  const response = await send(`${credential.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: credential.admin_resource, scope: ADMIN_SCOPE }),
  });
  const body = await answerOf(response);
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new AdminApiError(response.status, String(body.error ?? 'server_error'), `the running server refused the operator credential: ${String(body.error_description ?? body.error ?? response.status)}`);
  }
  return body.access_token;
}

/** Calls the admin API of the server that wrote `credential`. */
export async function remoteAdmin(config: Config, holder: number): Promise<AdminCaller> {
  const credential = readOperatorCredential(config.dataDir);
  if (!credential || credential.pid !== holder) {
    throw new AppError(503, 'temporarily_unavailable',
      `the embedded database in ${config.dataDir} is in use by process ${holder}, and its operator credential (${config.dataDir}/operator-credential.json) is missing or not readable: run the CLI as the user who runs the server, once it has started (or stop the server)`);
  }
  let token: Promise<string> | undefined;
  return async (request) => {
    token ??= operatorToken(credential);
    const query = new URLSearchParams(Object.entries(request.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
    const url = `${credential.url}/api/admin${concretePath(request)}${query.size ? `?${query}` : ''}`;
    const response = await send(url, {
      method: request.method.toUpperCase(),
      headers: {
        authorization: `Bearer ${await token}`,
        accept: 'application/json',
        'user-agent': 'enot-id command line',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    });
    if (response.status === 204) return undefined;
    const body = await answerOf(response);
    if (!response.ok) {
      throw new AdminApiError(response.status, String(body.error ?? 'server_error'), String(body.error_description ?? `the server answered ${response.status}`));
    }
    return body;
  };
}

/** The admin API's routes in this process, acting as the OS user who runs the CLI. */
export function inProcessAdmin(deps: AdminDeps): AdminCaller {
  let operator = 'unknown';
  try {
    operator = userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): audited as 'unknown'.
  }
  return localAdmin(deps, operator);
}
