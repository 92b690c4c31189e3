// The admin API from a caller's side: tokens as an operator gets them, and
// calls whose every response is checked against the OpenAPI document the
// server publishes (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ExecutionContext } from 'ava';
import { operatorClient, oidc } from './oidc.ts';
import { addClientRoles } from '../../server/rbac/roles.ts';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>; components: { schemas: Record<string, unknown> } };

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export interface AdminCall {
  status: number;
  headers: Headers;
  body: any;
}

/** A first-party machine client holding `roles` (default: admin), as `enot-id client create --first-party --role admin` makes one. */
export async function machineClient(server: Parameters<typeof operatorClient>[0] & { runtime: { db: import('knex').Knex } }, roles = ['admin'], firstParty = true) {
  const client = await operatorClient(server, { first_party: firstParty, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
  await addClientRoles(server.runtime.db, client.clientMetadata().client_id, roles);
  return client;
}

export async function clientToken(client: oidc.Configuration, issuer: string, params: Record<string, string> = { resource: `${issuer}/admin`, scope: 'admin' }) {
  return (await oidc.clientCredentialsGrant(client, params)).access_token;
}

export function adminApi(issuer: string) {
  let doc: Doc | undefined;
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  const compiled = new Map<string, ReturnType<Ajv2020['compile']>>();

  async function document(): Promise<Doc> {
    doc ??= (await (await fetch(`${issuer}/api/admin/openapi.json`)).json()) as Doc;
    return doc;
  }

  /** The schema the document gives this answer, or undefined when it declares none. */
  async function validatorFor(method: string, path: string, status: number) {
    const d = await document();
    const template = Object.keys(d.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path) && d.paths[t]![method]);
    if (!template) throw new Error(`the OpenAPI document has no ${method.toUpperCase()} ${path}`);
    const response = d.paths[template]![method]!.responses[String(status)];
    if (!response) throw new Error(`the OpenAPI document does not declare ${status} for ${method.toUpperCase()} ${template}`);
    const key = `${method} ${template} ${status}`;
    if (!compiled.has(key)) {
      const schema = response.content?.['application/json']?.schema;
      if (!schema) return undefined;
      // The one $ref the document uses, resolved inline.
      const inline = JSON.parse(JSON.stringify(schema).replaceAll('{"$ref":"#/components/schemas/Error"}', JSON.stringify(d.components.schemas.Error)));
      compiled.set(key, ajv.compile(inline));
    }
    return compiled.get(key);
  }

  /** Calls the API; fails the test when the answer does not match its schema in the document. */
  async function call(t: ExecutionContext, method: string, path: string, options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<AdminCall> {
    const response = await fetch(`${issuer}/api/admin${path}`, {
      method: method.toUpperCase(),
      headers: {
        accept: 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined || options.rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : undefined;
    const validate = await validatorFor(method.toLowerCase(), path.split('?')[0]!, response.status);
    if (validate && !validate(body)) t.fail(`${method} ${path} ${response.status} does not match the document: ${JSON.stringify(validate.errors)} in ${text.slice(0, 500)}`);
    if (!validate && text) t.fail(`${method} ${path} ${response.status} has a body the document does not declare`);
    return { status: response.status, headers: response.headers, body };
  }

  return { call, document };
}
