import type { ResourceServer } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import { InvalidTarget } from './protocol-errors.ts';

/**
 * RFC 8707 resource indicators. Access tokens for a resource are RFC 9068 JWTs
 * signed with ES256 unless that resource is configured for opaque tokens.
 */
export function resourceServerInfo(config: Config) {
  const byIdentifier = new Map(config.resourceServers.map((r) => [r.identifier, r]));
  return (identifier: string): ResourceServer => {
    const server = byIdentifier.get(identifier);
    if (!server) throw new InvalidTarget();
    return {
      scope: server.scope,
      audience: server.identifier,
      accessTokenTTL: config.accessTokenTtl,
      accessTokenFormat: server.accessTokenFormat,
      ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'ES256' as const } } } : {}),
    };
  };
}
