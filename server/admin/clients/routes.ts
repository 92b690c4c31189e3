// /api/admin/clients: clients as the operator manages them (server/clients/),
// with operator-only metadata (first_party, pkce_exempt, skip_consent) and machine clients'
// roles. A secret is shown once: in the create or rotate response, never in a
// read, a listing or the audit log.
import { z } from 'zod';
import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import type { AdapterFactory } from '../../../adapters/types.ts';
import { InvalidRequest, NotFound } from '../../errors/index.ts';
import { newClientId, newClientSecret, validateClientMetadata, withoutSecret, type ClientMetadata } from '../../clients/operator-clients.ts';
import { clientRoles, setClientRoles } from '../../rbac/roles.ts';
import { requireRoles, roleName } from '../roles/routes.ts';
import { defineRoute, type AnyRoute } from '../guard.ts';
import { page, paging, resourceIdentifier } from '../schemas.ts';
import { resourcesServedBy, setResourcesServedBy } from '../../rbac/resource-clients.ts';
import { findResource } from '../../rbac/resources.ts';

const clientSchema = z.object({
  client_id: z.string(),
  client_name: z.string().optional(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  token_endpoint_auth_method: z.string(),
  scope: z.string().optional(),
  application_type: z.enum(['web', 'native']),
  logo_uri: z.string().optional(),
  client_uri: z.string().optional(),
  policy_uri: z.string().optional(),
  tos_uri: z.string().optional(),
  first_party: z.boolean(),
  pkce_exempt: z.boolean(),
  skip_consent: z.boolean(),
  roles: z.array(z.string()),
  resource_servers: z.array(z.string()).describe('the API resources this client serves: it may introspect their tokens (RFC 7662 §4)'),
});

const withSecret = clientSchema.extend({ client_secret: z.string().optional().describe('shown only in this response: store it') });

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
const uri = z.string().min(1).max(2000);

const editable = {
  client_name: z.string().min(1).max(200),
  redirect_uris: z.array(uri).max(50),
  post_logout_redirect_uris: z.array(uri).max(50),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(4),
  scope: z.string().max(2000).describe('space-separated scopes the client may ask for; empty: any'),
  first_party: z.boolean().describe('operator-only: may obtain ISSUER/api and ISSUER/admin'),
  pkce_exempt: z.boolean().describe('operator-only: a confidential client may leave out PKCE with a nonce (OAuth 2.1 §7.5.1)'),
  skip_consent: z.boolean().describe('operator-only, with first_party: no consent page, but for prompt=consent (OIDC Core §3.1.2.1) and native apps'),
  logo_uri: uri.describe('RFC 7591 §2, shown on sign-in and consent: https'),
  client_uri: uri.describe('RFC 7591 §2, linked from sign-in and consent: https (http only on a loopback http issuer)'),
  policy_uri: uri.describe('RFC 7591 §2 privacy policy, linked from sign-in and consent: https (http only on a loopback http issuer)'),
  tos_uri: uri.describe('RFC 7591 §2 terms of service, linked from sign-in and consent: https (http only on a loopback http issuer)'),
  resource_servers: z.array(resourceIdentifier).max(50).describe('API resources (RFC 8707) this confidential client serves: it may introspect their tokens (RFC 7662 §4)'),
};

/** RFC 7591 §2 metadata the sign-in and consent pages show (server/oidc/client-metadata-policy.ts). */
const CLIENT_LINKS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;

const idParams = z.object({ id: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'must be a client id') });

export interface ClientDeps {
  db: Knex;
  provider: { current: Provider };
  adapters: AdapterFactory;
}

export function clientRoutes(deps: ClientDeps): AnyRoute[] {
  const { db } = deps;
  const clients = () => deps.adapters('Client');

  async function view(metadata: ClientMetadata) {
    const m = withoutSecret(metadata) as Record<string, any>;
    return {
      client_id: m.client_id, client_name: m.client_name, redirect_uris: m.redirect_uris ?? [], post_logout_redirect_uris: m.post_logout_redirect_uris ?? [],
      grant_types: m.grant_types ?? ['authorization_code'], response_types: m.response_types ?? ['code'],
      token_endpoint_auth_method: m.token_endpoint_auth_method ?? 'client_secret_basic', scope: m.scope,
      application_type: m.application_type === 'native' ? 'native' as const : 'web' as const,
      logo_uri: m.logo_uri, client_uri: m.client_uri, policy_uri: m.policy_uri, tos_uri: m.tos_uri,
      first_party: m.first_party === true, pkce_exempt: m.pkce_exempt === true, skip_consent: m.skip_consent === true,
      roles: await clientRoles(db, String(m.client_id)),
      resource_servers: await resourcesServedBy(db, String(m.client_id)),
    };
  }

  /** 400 unless every resource exists and the client can authenticate to introspect (RFC 7662 §2.1). */
  async function requireResources(resources: string[], metadata: ClientMetadata): Promise<void> {
    if (!resources.length) return;
    if (metadata.token_endpoint_auth_method === 'none') throw new InvalidRequest('body.resource_servers: a public client cannot introspect (RFC 7662 §2.1)');
    const missing = [];
    for (const resource of resources) if (!(await findResource(db, resource))) missing.push(resource);
    if (missing.length) throw new InvalidRequest(`body.resource_servers: no such resource: ${missing.join(', ')}`);
  }

  async function existing(id: string): Promise<ClientMetadata> {
    const found = await clients().find(id);
    if (!found) throw new NotFound('no client has this id');
    return found as ClientMetadata;
  }

  async function store(metadata: ClientMetadata): Promise<void> {
    await validateClientMetadata(deps.provider.current, metadata);
    await clients().upsert(String(metadata.client_id), metadata, 0);
  }

  return [
    defineRoute({
      method: 'get', path: '/clients', operationId: 'clients.list', summary: 'Clients in id order (never their secrets)', tag: 'clients',
      query: z.object(paging), response: page(clientSchema), status: 200,
      async handler({ query }) {
        const rows = await db('clients').select('id').orderBy('id').limit(query.limit + 1).modify((q) => {
          if (query.cursor) q.where('id', '>', query.cursor);
        });
        const items = await Promise.all(rows.slice(0, query.limit).map(async (r: { id: string }) => view(await existing(r.id))));
        return { items, next_cursor: rows.length > query.limit ? items.at(-1)!.client_id : null };
      },
    }),
    defineRoute({
      method: 'post', path: '/clients', operationId: 'clients.create',
      summary: 'Register a client as the operator (confidential with a secret, or public); roles for machine clients', tag: 'clients',
      body: z.object({
        client_name: editable.client_name,
        redirect_uris: editable.redirect_uris.default([]),
        post_logout_redirect_uris: editable.post_logout_redirect_uris.optional(),
        grant_types: editable.grant_types.default(['authorization_code', 'refresh_token']),
        application_type: z.enum(['web', 'native']).default('web')
          .describe('native: an app on a device (RFC 8252), whose redirect URIs may be private-use (com.example.app:/cb) or loopback; public unless public is false'),
        public: z.boolean().optional().describe('a public client (PKCE only, no secret); by default only a native one'),
        scope: editable.scope.optional(),
        logo_uri: editable.logo_uri.optional(),
        client_uri: editable.client_uri.optional(),
        policy_uri: editable.policy_uri.optional(),
        tos_uri: editable.tos_uri.optional(),
        first_party: editable.first_party.default(false),
        pkce_exempt: editable.pkce_exempt.default(false),
        skip_consent: editable.skip_consent.default(false),
        roles: z.array(roleName).max(100).default([]),
        resource_servers: editable.resource_servers.default([]),
      }),
      response: withSecret, status: 201, idempotent: true,
      audit: ({ body }) => ({ client_name: body.client_name, grant_types: body.grant_types, application_type: body.application_type, first_party: body.first_party, skip_consent: body.skip_consent, roles: body.roles }),
      async handler({ body }) {
        const roles = [...new Set(body.roles)];
        const isPublic = body.public ?? body.application_type === 'native';
        await requireRoles(db, roles);
        // RFC 7591 §2 metadata and §3.2.1 issued fields, as the CLI and the registration endpoint store them.
        const metadata: ClientMetadata = {
          client_id: newClientId(),
          client_id_issued_at: Math.floor(Date.now() / 1000),
          ...(isPublic ? {} : { client_secret: newClientSecret(), client_secret_expires_at: 0 }),
          client_name: body.client_name,
          ...(body.application_type === 'native' ? { application_type: 'native' } : {}),
          redirect_uris: body.redirect_uris,
          ...(body.post_logout_redirect_uris?.length ? { post_logout_redirect_uris: body.post_logout_redirect_uris } : {}),
          grant_types: body.grant_types,
          response_types: body.grant_types.includes('authorization_code') ? ['code'] : [],
          token_endpoint_auth_method: isPublic ? 'none' : 'client_secret_basic',
          ...(body.scope ? { scope: body.scope } : {}),
          ...Object.fromEntries(CLIENT_LINKS.filter((key) => body[key]).map((key) => [key, body[key]])),
          ...(body.first_party ? { first_party: true } : {}),
          ...(body.pkce_exempt ? { pkce_exempt: true } : {}),
          ...(body.skip_consent ? { skip_consent: true } : {}),
        };
        const served = [...new Set(body.resource_servers)];
        await requireResources(served, metadata);
        await store(metadata);
        if (roles.length) await setClientRoles(db, String(metadata.client_id), roles);
        if (served.length) await setResourcesServedBy(db, String(metadata.client_id), served);
        return { ...(await view(metadata)), ...(metadata.client_secret ? { client_secret: String(metadata.client_secret) } : {}) };
      },
    }),
    defineRoute({
      method: 'get', path: '/clients/:id', operationId: 'clients.read', summary: 'One client (never its secret)', tag: 'clients',
      params: idParams, response: clientSchema, status: 200, errors: [404],
      async handler({ params }) {
        return view(await existing(params.id));
      },
    }),
    defineRoute({
      method: 'patch', path: '/clients/:id', operationId: 'clients.update',
      summary: 'Change a client\'s metadata, operator-only metadata included; validated as a registration is', tag: 'clients',
      params: idParams,
      body: z.object({
        client_name: editable.client_name.optional(), redirect_uris: editable.redirect_uris.optional(),
        post_logout_redirect_uris: editable.post_logout_redirect_uris.optional(), grant_types: editable.grant_types.optional(),
        scope: editable.scope.optional(), first_party: editable.first_party.optional(), pkce_exempt: editable.pkce_exempt.optional(),
        skip_consent: editable.skip_consent.optional(),
        logo_uri: editable.logo_uri.or(z.literal('')).optional().describe('"" removes it'), client_uri: editable.client_uri.or(z.literal('')).optional().describe('"" removes it'),
        policy_uri: editable.policy_uri.or(z.literal('')).optional().describe('"" removes it'), tos_uri: editable.tos_uri.or(z.literal('')).optional().describe('"" removes it'),
        resource_servers: editable.resource_servers.optional(),
      }),
      response: clientSchema, status: 200, errors: [404],
      audit: ({ body }) => ({ changed: Object.keys(body) }),
      async handler({ params, body }) {
        const { resource_servers: served, ...changes } = body;
        const current = { ...(await existing(params.id)) };
        const next: ClientMetadata = { ...current, ...changes };
        if (body.grant_types) next.response_types = body.grant_types.includes('authorization_code') ? ['code'] : [];
        // false is the same as absent; dropped so stored metadata stays as the CLI writes it.
        for (const key of ['first_party', 'pkce_exempt', 'skip_consent', 'scope', ...CLIENT_LINKS] as const) if (next[key] === false || next[key] === '') delete next[key];
        if (served) await requireResources([...new Set(served)], next);
        await store(next);
        if (served) await setResourcesServedBy(db, params.id, [...new Set(served)]);
        return view(next);
      },
    }),
    defineRoute({
      method: 'delete', path: '/clients/:id', operationId: 'clients.delete',
      summary: 'Delete a client with its registration access tokens, grants and tokens (as RFC 7592 DELETE)', tag: 'clients',
      params: idParams, status: 204, errors: [404],
      async handler({ params }) {
        await existing(params.id);
        await clients().destroy(params.id);
      },
    }),
    defineRoute({
      method: 'post', path: '/clients/:id/secret', operationId: 'clients.rotateSecret',
      summary: 'Give a confidential client a new secret; the old one stops working at once (in other processes within 5 s)', tag: 'clients',
      params: idParams, response: z.object({ client_id: z.string(), client_secret: z.string() }), status: 200, errors: [404],
      async handler({ params }) {
        const current = await existing(params.id);
        if (current.token_endpoint_auth_method === 'none') throw new InvalidRequest('a public client has no secret');
        const client_secret = newClientSecret();
        await store({ ...current, client_secret, client_secret_expires_at: 0 });
        return { client_id: params.id, client_secret };
      },
    }),
    defineRoute({
      method: 'put', path: '/clients/:id/roles', operationId: 'clients.setRoles',
      summary: 'Replace a machine client\'s roles (each must exist): what its client-credentials tokens may carry', tag: 'clients',
      params: idParams, body: z.object({ roles: z.array(roleName).max(100) }), response: clientSchema, status: 200, errors: [404],
      audit: ({ body }) => ({ roles: body.roles }),
      async handler({ params, body }) {
        const current = await existing(params.id);
        const roles = [...new Set(body.roles)];
        await requireRoles(db, roles);
        await setClientRoles(db, params.id, roles);
        return view(current);
      },
    }),
  ];
}
