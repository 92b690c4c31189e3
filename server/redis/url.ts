// REDIS_URL names one of three Redis topologies (README, "Redis beyond one node"):
//
//   redis://[user:password@]host:port[/db]            one Redis (rediss:// with TLS)
//   redis+cluster://[user:password@]host:port,host:port  a Redis Cluster: any of its nodes
//   redis+sentinel://[user:password@]host:port,host:port/primary-name
//                                                        a primary and its replicas,
//                                                        found through these Sentinels
//
// (`rediss+cluster://`, `rediss+sentinel://`: TLS to the Redis nodes.) The user and
// password are the Redis nodes'; Sentinels that need their own are given
// `?sentinel_password=` (and `sentinel_username=`). WHATWG URL refuses a list of
// hosts, so the list is cut out before the rest is parsed as a URL.

export interface RedisNode {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | ({ kind: 'single'; url: string } & Credentials)
  | ({ kind: 'cluster'; nodes: RedisNode[] } & Credentials)
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelUsername?: string; sentinelPassword?: string; db: number } & Credentials);

export const REDIS_PROTOCOLS = ['redis:', 'rediss:', 'redis+cluster:', 'rediss+cluster:', 'redis+sentinel:', 'rediss+sentinel:'];

const DEFAULT_PORT = { cluster: 6379, sentinel: 26379 } as const;

function parseNode(text: string, defaultPort: number): RedisNode {
  // host, host:port, [v6], [v6]:port
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not host:port`);
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port < 1 || port > 65_535) throw new Error(`"${text}" has no valid port`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** The topology and credentials REDIS_URL names; throws a readable Error for a malformed one. */
export function parseRedisUrl(value: string): RedisTarget {
  const scheme = /^([a-z+]+):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (!scheme || !REDIS_PROTOCOLS.includes(`${scheme}:`)) throw new Error(`not a URL starting with ${REDIS_PROTOCOLS.map((p) => `${p}//`).join(', ')}`);
  const [base, topology] = scheme.split('+') as ['redis' | 'rediss', 'cluster' | 'sentinel' | undefined];
  const tls = base === 'rediss';
  if (!topology) {
    const url = new URL(value);
    if (url.hash) throw new Error('has a #fragment');
    return { kind: 'single', url: value, tls, ...userOf(url) };
  }
  // scheme://[userinfo@]hosts[/path][?query]
  const rest = value.slice(scheme.length + 3);
  const at = rest.lastIndexOf('@', rest.search(/[/?#]|$/));
  const userinfo = at === -1 ? '' : rest.slice(0, at + 1);
  const afterUser = rest.slice(at + 1);
  const hostsEnd = afterUser.search(/[/?#]|$/);
  const hosts = afterUser.slice(0, hostsEnd);
  const url = new URL(`${base}://${userinfo}placeholder${afterUser.slice(hostsEnd)}`);
  if (url.hash) throw new Error('has a #fragment');
  const nodes = hosts.split(',').filter(Boolean).map((h) => parseNode(h, DEFAULT_PORT[topology]));
  if (nodes.length === 0) throw new Error('names no host');
  const path = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''));
  if (topology === 'cluster') {
    if (path !== '') throw new Error('a cluster has no database number or name in its path (Redis Cluster has only database 0)');
    return { kind: 'cluster', nodes, tls, ...userOf(url) };
  }
  // redis+sentinel://…/name or …/name/db
  const [name, db = '0', ...extra] = path.split('/');
  if (!name || extra.length > 0 || !/^\d{1,2}$/.test(db)) throw new Error('a sentinel URL ends with /<primary name> (or /<primary name>/<db>)');
  const sentinelUsername = url.searchParams.get('sentinel_username') ?? undefined;
  const sentinelPassword = url.searchParams.get('sentinel_password') ?? undefined;
  return { kind: 'sentinel', sentinels: nodes, name, db: Number(db), tls, ...userOf(url), ...(sentinelUsername && { sentinelUsername }), ...(sentinelPassword && { sentinelPassword }) };
}

function userOf(url: URL): { username?: string; password?: string } {
  return {
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
  };
}

