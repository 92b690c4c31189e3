// `enot-id client ...`: clients as the operator manages them, through the admin
// API (../admin.ts; server/admin/clients/routes.ts): validated as a
// registration is, with operator-only metadata and machine clients' roles.
import { parseArgs } from 'node:util';
import { AppError } from '../../errors/index.ts';
import { ROLE_NAME as ROLE } from '../../config/index.ts';
import type { AdminCaller } from '../../admin/local.ts';
import { list, parsing, required, UsageError, type Command } from '../args.ts';
import { fields, listing } from '../output.ts';

type Client = Record<string, unknown> & { client_id: string; client_secret?: string };

const CLIENT_FIELDS = ['client_id', 'client_name', 'application_type', 'token_endpoint_auth_method', 'grant_types', 'redirect_uris', 'post_logout_redirect_uris', 'scope', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'first_party', 'pkce_exempt', 'skip_consent', 'roles', 'resource_servers'];

/** RFC 7591 §2 metadata shown on sign-in and consent: option name → metadata name. */
const LINK_OPTIONS = { 'logo-uri': 'logo_uri', 'client-uri': 'client_uri', 'policy-uri': 'policy_uri', 'tos-uri': 'tos_uri' } as const;

/** The options a client's metadata is given by, shared by create and update. */
const METADATA_OPTIONS = {
  name: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'grant-type': { type: 'string', multiple: true },
  scope: { type: 'string' },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  // Shown on sign-in and consent (RFC 7591 §2; server/oidc/client-metadata-policy.ts).
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  // Operator-only metadata (server/oidc/operator-metadata.ts).
  'first-party': { type: 'boolean' },
  'pkce-exempt': { type: 'boolean' },
  'skip-consent': { type: 'boolean' },
  // Roles of a machine client: what its client-credentials tokens may carry (issue 11).
  role: { type: 'string', multiple: true },
  // Resources (RFC 8707) whose tokens this client may introspect: it is their API (RFC 7662 §4).
  'resource-server': { type: 'string', multiple: true },
} as const;

/** The link options given, as metadata; on update "" removes one. */
function linksOf(values: Partial<Record<keyof typeof LINK_OPTIONS, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(LINK_OPTIONS).flatMap(([option, key]) => {
    const value = values[option as keyof typeof LINK_OPTIONS];
    return value === undefined ? [] : [[key, value.trim()]];
  }));
}

function rolesOf(values: string[] | undefined): string[] {
  const roles = [...new Set(list(values))];
  for (const role of roles) if (!ROLE.test(role)) throw new UsageError(`role "${role}" must match ${ROLE.source}`);
  return roles;
}

/** Not split at commas as other lists are: a URI may hold one (RFC 3986 §2.2). */
const uris = (values: string[] | undefined) => [...new Set((values ?? []).map((v) => v.trim()).filter(Boolean))];

/** The API's "no client has this id", with the id the operator typed. */
async function forClient<T>(id: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AppError && err.status === 404) throw new AppError(404, 'not_found', `no client with id "${id}"`);
    throw err;
  }
}

function oneId(name: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`${name} takes exactly one client_id`);
  return positionals[0]!;
}

export const clientCreate: Command = {
  name: 'client create',
  synopsis: '--name N [--redirect-uri U ...] [--grant-type G ...] [--public] [--native] [--scope S] [--post-logout-redirect-uri U ...] [--logo-uri U] [--client-uri U] [--policy-uri U] [--tos-uri U] [--first-party] [--pkce-exempt] [--skip-consent] [--role R ...] [--resource-server R ...]',
  summary: 'register a client (confidential with a secret, --public for PKCE-only apps, --native for a mobile or desktop app: public, private-use or loopback redirect URIs); each role and resource must exist',
  admin: true,
  parse(args) {
    const { values } = parsing(() => parseArgs({ args, options: { ...METADATA_OPTIONS, public: { type: 'boolean', default: false }, native: { type: 'boolean', default: false } } }));
    const name = required(values.name, 'name');
    const grantTypes = values['grant-type'] ? list(values['grant-type']) : undefined;
    if (grantTypes && !grantTypes.length) throw new UsageError('--grant-type needs a value');
    const roles = rolesOf(values.role);
    const served = uris(values['resource-server']);
    // RFC 7662 §2.1: introspection needs a client that authenticates.
    if (served.length && (values.public || values.native)) throw new UsageError(`--resource-server needs a confidential client, not --${values.native ? 'native' : 'public'}`);
    if (values['skip-consent'] && !values['first-party']) throw new UsageError('--skip-consent needs --first-party: only the operator\'s own apps may skip consent');
    const postLogout = list(values['post-logout-redirect-uri']);
    const scope = values.scope?.trim();
    return async ({ admin }) => {
      const client = (await (await admin())({
        method: 'post', path: '/clients',
        body: {
          client_name: name,
          redirect_uris: list(values['redirect-uri']),
          ...(postLogout.length ? { post_logout_redirect_uris: postLogout } : {}),
          ...(grantTypes ? { grant_types: grantTypes } : {}),
          // RFC 8252 §8.4: a native app cannot keep a secret; it is a public client.
          ...(values.native ? { application_type: 'native', public: true } : { public: values.public }),
          ...(scope ? { scope } : {}),
          ...linksOf(values),
          first_party: values['first-party'] ?? false,
          pkce_exempt: values['pkce-exempt'] ?? false,
          skip_consent: values['skip-consent'] ?? false,
          roles,
          resource_servers: served,
        },
      })) as Client;
      const lines = [`created client ${client.client_id}`];
      if (client.client_secret) lines.push(`client_secret: ${client.client_secret}`, '(shown only now: store it)');
      lines.push(fields(client, CLIENT_FIELDS));
      return { json: client, text: lines.join('\n') };
    };
  },
};

/** Every page of /clients: an operator's list is short enough to print whole. */
async function allClients(admin: AdminCaller): Promise<Client[]> {
  const clients: Client[] = [];
  let cursor: string | undefined;
  do {
    const page = (await admin({ method: 'get', path: '/clients', query: { limit: '200', cursor } })) as { items: Client[]; next_cursor: string | null };
    clients.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return clients;
}

export const clientList: Command = {
  name: 'client list',
  synopsis: '',
  summary: 'list registered clients (never their secrets)',
  admin: true,
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ admin }) => {
      const clients = await allClients(await admin());
      const rows = clients.map((c) => ({ ...c, kind: c.token_endpoint_auth_method === 'none' ? 'public' : 'confidential', name: JSON.stringify(c.client_name ?? '') }));
      return { json: { clients }, text: listing(rows, ['client_id', 'kind', 'name', 'redirect_uris'], 'no clients') };
    };
  },
};

export const clientShow: Command = {
  name: 'client show',
  synopsis: '<client_id>',
  summary: 'one client (never its secret)',
  admin: true,
  parse(args) {
    const id = oneId('client show', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => {
      const client = (await forClient(id, async () => (await admin())({ method: 'get', path: '/clients/:id', params: { id } }))) as Client;
      return { json: client, text: fields(client, CLIENT_FIELDS) };
    };
  },
};

export const clientUpdate: Command = {
  name: 'client update',
  synopsis: '<client_id> [--name N] [--redirect-uri U ...] [--grant-type G ...] [--scope S] [--post-logout-redirect-uri U ...] [--logo-uri U] [--client-uri U] [--policy-uri U] [--tos-uri U] [--first-party | --no-first-party] [--pkce-exempt | --no-pkce-exempt] [--skip-consent | --no-skip-consent] [--role R ... | --no-roles] [--resource-server R ... | --no-resource-servers]',
  summary: 'change a client; a list given replaces the stored one; an empty --logo-uri, --client-uri, --policy-uri or --tos-uri removes it',
  admin: true,
  parse(args) {
    const { values, positionals } = parsing(() =>
      parseArgs({
        args, allowPositionals: true,
        options: {
          ...METADATA_OPTIONS,
          'no-first-party': { type: 'boolean' }, 'no-pkce-exempt': { type: 'boolean' }, 'no-skip-consent': { type: 'boolean' },
          'no-roles': { type: 'boolean' }, 'no-resource-servers': { type: 'boolean' },
        },
      }),
    );
    const id = oneId('client update', positionals);
    for (const flag of ['first-party', 'pkce-exempt', 'skip-consent'] as const) {
      if (values[flag] && values[`no-${flag}`]) throw new UsageError(`give --${flag} or --no-${flag}, not both`);
    }
    if (values.role && values['no-roles']) throw new UsageError('give --role or --no-roles, not both');
    if (values['resource-server'] && values['no-resource-servers']) throw new UsageError('give --resource-server or --no-resource-servers, not both');
    const body = {
      ...(values.name !== undefined ? { client_name: values.name } : {}),
      ...(values['redirect-uri'] ? { redirect_uris: list(values['redirect-uri']) } : {}),
      ...(values['post-logout-redirect-uri'] ? { post_logout_redirect_uris: list(values['post-logout-redirect-uri']) } : {}),
      ...(values['grant-type'] ? { grant_types: list(values['grant-type']) } : {}),
      ...(values.scope !== undefined ? { scope: values.scope.trim() } : {}),
      ...(values['first-party'] ? { first_party: true } : values['no-first-party'] ? { first_party: false } : {}),
      ...(values['pkce-exempt'] ? { pkce_exempt: true } : values['no-pkce-exempt'] ? { pkce_exempt: false } : {}),
      ...(values['skip-consent'] ? { skip_consent: true } : values['no-skip-consent'] ? { skip_consent: false } : {}),
      ...linksOf(values),
      ...(values['resource-server'] ? { resource_servers: uris(values['resource-server']) } : values['no-resource-servers'] ? { resource_servers: [] } : {}),
    };
    const roles = values.role ? rolesOf(values.role) : values['no-roles'] ? [] : undefined;
    if (!Object.keys(body).length && !roles) throw new UsageError('nothing to change: give at least one option');
    return async ({ admin }) => {
      const caller = await admin();
      let client = (await forClient(id, () => caller({ method: 'get', path: '/clients/:id', params: { id } }))) as Client;
      if (Object.keys(body).length) client = (await caller({ method: 'patch', path: '/clients/:id', params: { id }, body })) as Client;
      if (roles) client = (await caller({ method: 'put', path: '/clients/:id/roles', params: { id }, body: { roles } })) as Client;
      return { json: client, text: [`updated client ${id}`, fields(client, CLIENT_FIELDS)].join('\n') };
    };
  },
};

export const clientRotateSecret: Command = {
  name: 'client rotate-secret',
  synopsis: '<client_id>',
  summary: 'give a confidential client a new secret; the old one stops working at once',
  admin: true,
  parse(args) {
    const id = oneId('client rotate-secret', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => {
      const rotated = (await forClient(id, async () => (await admin())({ method: 'post', path: '/clients/:id/secret', params: { id } }))) as Client;
      return { json: rotated, text: [`client_secret: ${rotated.client_secret!}`, '(shown only now: store it; the old secret no longer works)'].join('\n') };
    };
  },
};

export const clientDelete: Command = {
  name: 'client delete',
  synopsis: '<client_id>',
  summary: 'delete a client (-- before an id that starts with "-") with its registration access tokens, grants and tokens',
  admin: true,
  parse(args) {
    const id = oneId('client delete', parsing(() => parseArgs({ args, options: {}, allowPositionals: true })).positionals);
    return async ({ admin }) => {
      // The RFC 7592 DELETE's work (adapters/index.ts), through the admin API.
      await forClient(id, async () => (await admin())({ method: 'delete', path: '/clients/:id', params: { id } }));
      return { json: { deleted: id }, text: `deleted client ${id}` };
    };
  },
};

export const clientCommands = [clientCreate, clientList, clientShow, clientUpdate, clientRotateSecret, clientDelete];
