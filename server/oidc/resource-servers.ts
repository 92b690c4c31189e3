// RFC 8707 resource indicators, from the `resources` and `permissions` tables
// (server/rbac/). Access tokens for a resource are RFC 9068 JWTs signed with
// ES256 unless that resource is set to opaque tokens.
//
// Role-based access (issue 11): a token for a resource carries only the
// requested scopes that the subject's roles grant: a person's roles
// (account_roles), or for client credentials the client's own (client_roles).
// A scope no role grants is left out, and the token response's `scope` says what
// was granted (RFC 6749 §3.3). oidc-provider asks for the resource's scopes when
// it checks a request (no subject yet: every scope of the resource is valid to
// ask for), when it shows consent, and when it issues each token: the last two
// get the subject's scopes only, so a change of roles applies to the next token.
import type { Knex } from 'knex';
import type { Client, KoaContextWithOIDC, ResourceServer } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import { InvalidTarget } from './protocol-errors.ts';
import { isFirstParty } from './operator-metadata.ts';
import { findResource } from '../rbac/resources.ts';
import { clientGrantedScopes, type Subject } from '../rbac/granted-scopes.ts';
import type { FindTokenAccount } from './find-account.ts';
import { shortLived } from '../rbac/short-lived-cache.ts';
import { traced } from '../tracing/spans.ts';

const CLIENT_CREDENTIALS = 'client_credentials';

/** Whose roles decide: the person of the grant or session, or the client itself for client credentials; none yet while a request is checked. */
function subjectOf(ctx: KoaContextWithOIDC, client: Client): Subject | undefined {
  const params = ctx.oidc.params as { grant_type?: unknown } | undefined;
  if (ctx.oidc.route === 'token' && params?.grant_type === CLIENT_CREDENTIALS) return { clientId: client.clientId };
  const entities = ctx.oidc.entities as { Grant?: { accountId?: string }; Account?: { accountId?: string }; Session?: { accountId?: string } };
  const accountId = entities.Grant?.accountId ?? entities.Account?.accountId ?? entities.Session?.accountId;
  return accountId ? { accountId } : undefined;
}

/**
 * `findAccount`: the provider's own, which reads the person's permissions with the
 * account, once per request (./find-account.ts): a token issue costs no query of its own
 * for them. A blocked or deleted person is granted nothing (no token is issued for one).
 */
export function resourceServerInfo(config: Config, db: Knex, findAccount: FindTokenAccount) {
  const resources = shortLived((identifier) => findResource(db, identifier));
  // Machine clients' grants are read on every client-credentials token: remembered briefly.
  const clientGrants = shortLived((key) => {
    const [clientId, resource] = JSON.parse(key) as [string, string];
    return clientGrantedScopes(db, clientId, resource);
  });

  return (ctx: KoaContextWithOIDC, identifier: string, client: Client): Promise<ResourceServer> => traced('oidc.resource_scopes', async () => {
    const server = await resources.get(identifier);
    if (!server) throw new InvalidTarget();
    // Enot ID's own API (QR approval) is for the operator's own apps only: a
    // third-party client with such a token could approve a QR sign-in as the
    // person (RFC 9700 §2.3; RFC 6819 §5.1.5.1). Refused as an unknown resource
    // would be, by the code, device and client credentials grants alike.
    // The admin API likewise (issue 11 §2): every first-party power stays out of
    // reach of third-party clients, whatever roles the person holds.
    if ((identifier === config.appApiResource || identifier === config.adminApiResource) && !isFirstParty(client)) throw new InvalidTarget();
    const subject = subjectOf(ctx, client);
    const granted = !subject
      ? undefined
      : 'clientId' in subject
        ? await clientGrants.get(JSON.stringify([subject.clientId, identifier]))
        : ((await findAccount(ctx, subject.accountId))?.grantedScopes(identifier) ?? new Set<string>());
    return {
      scope: (granted ? server.scopes.filter((scope) => granted.has(scope)) : server.scopes).join(' '),
      audience: server.identifier,
      accessTokenTTL: server.accessTokenTtl ?? config.accessTokenTtl,
      accessTokenFormat: server.accessTokenFormat,
      ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' as const } } } : {}),
    };
  });
}
