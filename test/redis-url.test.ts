// REDIS_URL's three topologies (server/redis/url.ts) and its refusals, as the
// configuration reports them; passwords hidden in messages (server/errors/connection.ts).
import test from 'ava';
import { parseRedisUrl } from '../server/redis/url.ts';
import { loadConfig, ConfigError } from '../server/config/index.ts';
import { withoutPassword } from '../server/errors/connection.ts';

test('one Redis keeps its URL, with TLS for rediss://', (t) => {
  t.like(parseRedisUrl('redis://:secret@cache:6380/2'), { kind: 'single', url: 'redis://:secret@cache:6380/2', password: 'secret', tls: false });
  t.like(parseRedisUrl('rediss://cache'), { kind: 'single', tls: true });
});

test('a cluster lists its nodes; a missing port is 6379; IPv6 in brackets', (t) => {
  t.deepEqual(parseRedisUrl('redis+cluster://user:p%40ss@10.0.0.1:7000,10.0.0.2,[::1]:7002'), {
    kind: 'cluster',
    nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 6379 }, { host: '::1', port: 7002 }],
    tls: false,
    username: 'user',
    password: 'p@ss',
  });
  t.like(parseRedisUrl('rediss+cluster://a:1/'), { kind: 'cluster', tls: true });
});

test('Sentinels list theirs (default 26379), then the primary name and an optional db; their own credentials in the query', (t) => {
  t.deepEqual(parseRedisUrl('redis+sentinel://:redis-pw@s1,s2:26380/mymaster/3?sentinel_password=s-pw'), {
    kind: 'sentinel',
    sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }],
    name: 'mymaster',
    db: 3,
    tls: false,
    password: 'redis-pw',
    sentinelPassword: 's-pw',
  });
});

test('malformed URLs are refused with the reason', (t) => {
  for (const [url, reason] of [
    ['http://cache:6379', /not a URL starting with redis:\/\//],
    ['redis+cluster://', /names no host/],
    ['redis+cluster://a:1,b:99999', /no valid port/],
    ['redis+cluster://a:1/0', /only database 0/],
    ['redis+sentinel://s1:26379', /ends with \/<primary name>/],
    ['redis+sentinel://s1:26379/name/x', /ends with \/<primary name>/],
    ['redis+cluster://a:1#x', /fragment/],
  ] as const) {
    t.throws(() => parseRedisUrl(url), { message: reason }, url);
  }
});

test('the configuration refuses a malformed REDIS_URL by name and accepts each topology', (t) => {
  const error = t.throws(() => loadConfig({ REDIS_URL: 'redis+sentinel://s1:26379' }), { instanceOf: ConfigError });
  t.regex(error!.message, /REDIS_URL/);
  t.regex(error!.message, /primary name/);
  for (const url of ['redis://127.0.0.1:6379', 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001', 'redis+sentinel://127.0.0.1:26379/enot']) {
    t.is(loadConfig({ REDIS_URL: url }).redisUrl, url);
  }
  t.is(loadConfig({ REDIS_WAIT_REPLICAS: '1' }).redisWaitReplicas, 1);
  t.throws(() => loadConfig({ REDIS_WAIT_REPLICAS: 'one' }), { instanceOf: ConfigError });
});

test('messages hide every password, the Sentinels’ too', (t) => {
  t.is(withoutPassword('redis+cluster://u:secret@a:1,b:2'), 'redis+cluster://u:***@a:1,b:2');
  t.is(withoutPassword('redis+sentinel://:pw@s1:1,s2:2/m?sentinel_password=spw'), 'redis+sentinel://:***@s1:1,s2:2/m?sentinel_password=***');
  t.is(withoutPassword('redis://:pw@cache:6379'), 'redis://:***@cache:6379');
});
