import { parseArgs } from 'node:util';
import { NotFound } from '../../errors/index.ts';
import { newClientId, newClientSecret, validateClientMetadata, withoutSecret, type ClientMetadata } from '../../clients/operator-clients.ts';
import { addClientRoles } from '../../rbac/roles.ts';
import { addResourceClient } from '../../rbac/resource-clients.ts';
import { findResource } from '../../rbac/resources.ts';
import { ROLE_NAME as ROLE } from '../../config/index.ts';
import { list, parsing, required, UsageError, type Command } from '../args.ts';

const DEFAULT_GRANT_TYPES = ['authorization_code', 'refresh_token'];

type Metadata = ClientMetadata;

export const clientCreate: Command = {
  name: 'client create',
  synopsis: '--name N [--redirect-uri U ...] [--grant-type G ...] [--public] [--scope S] [--post-logout-redirect-uri U ...] [--first-party] [--pkce-exempt] [--role R ...] [--resource-server R ...]',
  summary: 'register a client (confidential with a secret, or --public for PKCE-only apps)',
  parse(args) {
    const { values } = parsing(() =>
      parseArgs({
        args,
        options: {
          name: { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'grant-type': { type: 'string', multiple: true },
          public: { type: 'boolean', default: false },
          scope: { type: 'string' },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          // Operator-only metadata (server/oidc/operator-metadata.ts).
          'first-party': { type: 'boolean', default: false },
          'pkce-exempt': { type: 'boolean', default: false },
          // Roles of a machine client: what its client-credentials tokens may carry (issue 11).
          role: { type: 'string', multiple: true },
          // Resources (RFC 8707) whose tokens this client may introspect: it is their API (RFC 7662 §4).
          'resource-server': { type: 'string', multiple: true },
        },
      }),
    );
    const name = required(values.name, 'name');
    const grantTypes = values['grant-type'] ? list(values['grant-type']) : DEFAULT_GRANT_TYPES;
    if (!grantTypes.length) throw new UsageError('--grant-type needs a value');
    const postLogout = list(values['post-logout-redirect-uri']);
    const scope = values.scope?.trim();
    const roles = [...new Set(list(values.role))];
    for (const role of roles) {
      if (!ROLE.test(role)) throw new UsageError(`role "${role}" must match ${ROLE.source}`);
    }
    // Not split at commas as other lists are: a URI may hold one (RFC 3986 §2.2).
    const served = [...new Set((values['resource-server'] ?? []).map((v) => v.trim()).filter(Boolean))];
    // RFC 7662 §2.1: introspection needs a client that authenticates.
    if (served.length && values.public) throw new UsageError('--resource-server needs a confidential client, not --public');

    return async ({ runtime, provider }) => {
      // RFC 7591 §2 metadata and §3.2.1 issued fields, as oidc-provider's own registration endpoint stores them.
      const metadata: Metadata = {
        client_id: newClientId(),
        client_id_issued_at: Math.floor(Date.now() / 1000),
        ...(values.public ? {} : { client_secret: newClientSecret(), client_secret_expires_at: 0 }),
        client_name: name,
        redirect_uris: list(values['redirect-uri']),
        ...(postLogout.length ? { post_logout_redirect_uris: postLogout } : {}),
        grant_types: grantTypes,
        response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
        token_endpoint_auth_method: values.public ? 'none' : 'client_secret_basic',
        ...(scope ? { scope } : {}),
        ...(values['first-party'] ? { first_party: true } : {}),
        ...(values['pkce-exempt'] ? { pkce_exempt: true } : {}),
      };
      for (const resource of served) {
        if (!(await findResource(runtime.db, resource))) throw new NotFound(`no resource "${resource}" (configure it in RESOURCE_SERVERS)`);
      }
      const { Client } = await provider();
      await validateClientMetadata(Client, metadata);
      await runtime.adapters('Client').upsert(String(metadata.client_id), metadata, 0);
      if (roles.length) await addClientRoles(runtime.db, String(metadata.client_id), roles);
      if (roles.length) metadata.roles = roles;
      for (const resource of served) await addResourceClient(runtime.db, resource, String(metadata.client_id));
      if (served.length) metadata.resource_server_of = served;

      const lines = [`created client ${metadata.client_id as string}`];
      if (metadata.client_secret) lines.push(`client_secret: ${metadata.client_secret as string}`, '(shown only now: store it)');
      lines.push(JSON.stringify(withoutSecret(metadata), null, 2));
      return { json: metadata, text: lines.join('\n') };
    };
  },
};

export const clientList: Command = {
  name: 'client list',
  synopsis: '',
  summary: 'list registered clients (never their secrets)',
  parse(args) {
    parsing(() => parseArgs({ args, options: {} }));
    return async ({ runtime }) => {
      const rows = await runtime.db('clients').select('payload').orderBy([{ column: 'created_at' }, { column: 'id' }]);
      const clients = rows.map((row) => withoutSecret(row.payload as Metadata));
      const line = (c: Metadata) =>
        [
          c.client_id,
          c.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
          JSON.stringify(c.client_name ?? ''),
          ...((c.redirect_uris as string[] | undefined) ?? []),
        ].join('  ');
      return { json: { clients }, text: clients.length ? clients.map(line).join('\n') : 'no clients' };
    };
  },
};

export const clientDelete: Command = {
  name: 'client delete',
  synopsis: '<client_id>',
  summary: 'delete a client (-- before an id that starts with "-") with its registration access tokens (and, without REDIS_URL, its grants and tokens)',
  parse(args) {
    const { positionals } = parsing(() => parseArgs({ args, options: {}, allowPositionals: true }));
    if (positionals.length !== 1) throw new UsageError('client delete takes exactly one client_id');
    const id = positionals[0]!;
    return async ({ runtime }) => {
      const clients = runtime.adapters('Client');
      if (!(await clients.find(id))) throw new NotFound(`no client with id "${id}"`);
      // With its registration access tokens and what it holds in the database, as
      // the RFC 7592 DELETE does: the same Client adapter (adapters/index.ts).
      await clients.destroy(id);
      return { json: { deleted: id }, text: `deleted client ${id}` };
    };
  },
};
