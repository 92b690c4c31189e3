import type { Client, ResourceServer } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import { InvalidTarget } from './protocol-errors.ts';
import { isFirstParty } from './operator-metadata.ts';

/**
 * RFC 8707 resource indicators. Access tokens for a resource are RFC 9068 JWTs
 * signed with ES256 unless that resource is configured for opaque tokens.
 */
export function resourceServerInfo(config: Config) {
  const byIdentifier = new Map(config.resourceServers.map((r) => [r.identifier, r]));
  return (identifier: string, client: Client): ResourceServer => {
    const server = byIdentifier.get(identifier);
    if (!server) throw new InvalidTarget();
    // Enot ID's own API (QR approval) is for the operator's own apps only: a
    // third-party client with such a token could approve a QR sign-in as the
    // person (RFC 9700 §2.3; RFC 6819 §5.1.5.1). Refused as an unknown resource
    // would be, by the code, device and client credentials grants alike.
    if (identifier === config.appApiResource && !isFirstParty(client)) throw new InvalidTarget();
    return {
      scope: server.scope,
      audience: server.identifier,
      accessTokenTTL: config.accessTokenTtl,
      accessTokenFormat: server.accessTokenFormat,
      ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' as const } } } : {}),
    };
  };
}
