// Token requests for the storage-loss tests (dependency-loss, partition): a
// light client-credentials load whose every answer is recorded with its timing,
// /readyz, and the wait until everything works again.
//
// Three kinds of token request, each needing a different store:
// - an opaque access token is stored (in Redis, where the test gives one), so
//   issuing it needs Redis;
// - a JWT access token is stored nowhere;
// - a client the server does not know is looked up in PostgreSQL every time
//   (clients are cached for a few seconds, unknown ones never), so answering it
//   (401) needs PostgreSQL.

export const OPAQUE_RESOURCE = 'https://opaque.example.test';
/** RESOURCE_SERVERS for the server: an API configured for opaque access tokens. */
export const RESOURCE_SERVERS = JSON.stringify([{ identifier: OPAQUE_RESOURCE, scope: 'things:read', accessTokenFormat: 'opaque' }]);
/** The scope a test client needs for every kind of token request. */
export const CLIENT_SCOPE = 'api:read things:read';

export type TokenKind = 'opaque token' | 'JWT token' | 'unknown client';

export interface Answer {
  kind: TokenKind | 'introspection' | 'page' | 'readyz';
  /** The status this request gets while its stores answer. */
  expected: number;
  status: number;
  /** performance.now() when sent. */
  started: number;
  ms: number;
  contentType: string;
  retryAfter: string | null;
  text: string;
  /** Set when no HTTP answer came (connection error, or none within hangMs). */
  failure?: string;
}

const BODIES: Record<TokenKind, string> = {
  'opaque token': `grant_type=client_credentials&scope=things%3Aread&resource=${encodeURIComponent(OPAQUE_RESOURCE)}`,
  'JWT token': 'grant_type=client_credentials&scope=api%3Aread',
  'unknown client': 'grant_type=client_credentials&scope=api%3Aread',
};

const UNKNOWN_CLIENT = `Basic ${Buffer.from('no-such-client:secret').toString('base64')}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function describe(a: Answer) {
  return `${a.kind} ${a.status || a.failure} in ${Math.round(a.ms)} ms: ${a.text.slice(0, 200)}`;
}

/** RFC 9110 §10.2.3: a 503 says when to try again, a few seconds for a store that went away. */
export const SMALL_RETRY_AFTER = /^[1-5]$/;

export function isActive(answer: Answer): boolean {
  return answer.status === 200 && (JSON.parse(answer.text) as { active?: boolean }).active === true;
}

/**
 * Requests to the server at `url()` as the client `basic` (client_id:client_secret
 * as a Basic header). A request still unanswered after `hangMs` is given up and
 * recorded as a failure.
 */
export function tokenLoad(options: { url: () => string; basic: () => string; hangMs: number }) {
  /** Every access token answered 200, with whether it is opaque. */
  const issued: { token: string; opaque: boolean }[] = [];

  async function send(kind: Answer['kind'], expected: number, path: string, init: RequestInit): Promise<Answer> {
    const started = performance.now();
    try {
      const response = await fetch(`${options.url()}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(options.hangMs) });
      const text = await response.text();
      const headers = response.headers;
      return { kind, expected, status: response.status, started, ms: performance.now() - started, contentType: headers.get('content-type') ?? '', retryAfter: headers.get('retry-after'), text };
    } catch (err) {
      return { kind, expected, status: 0, started, ms: performance.now() - started, contentType: '', retryAfter: null, text: '', failure: String((err as Error).cause ?? err) };
    }
  }

  function post(kind: Answer['kind'], expected: number, path: string, body: string, authorization = options.basic()) {
    return send(kind, expected, path, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
  }

  async function token(kind: TokenKind): Promise<Answer & { accessToken?: string }> {
    const unknown = kind === 'unknown client';
    const answer = await post(kind, unknown ? 401 : 200, '/token', BODIES[kind], unknown ? UNKNOWN_CLIENT : options.basic());
    if (answer.status !== 200 || unknown) return answer;
    const accessToken = (JSON.parse(answer.text) as { access_token: string }).access_token;
    issued.push({ token: accessToken, opaque: kind === 'opaque token' });
    return { ...answer, accessToken };
  }

  function introspect(accessToken: string) {
    return post('introspection', 200, '/token/introspection', `token=${encodeURIComponent(accessToken)}`);
  }

  async function readyz() {
    const answer = await send('readyz', 200, '/readyz', {});
    const body = answer.text ? (JSON.parse(answer.text) as { status: string; checks: Record<string, string> }) : undefined;
    return { ...answer, body };
  }

  /** Every kind of token request, and an introspection of each token, with `concurrency` workers until stop(). */
  function start(concurrency: number) {
    const answers: Answer[] = [];
    const kinds: TokenKind[] = ['opaque token', 'JWT token', 'unknown client'];
    let running = true;
    const workers = Array.from({ length: concurrency }, async (_, worker) => {
      for (let n = worker; running; n++) {
        const t = await token(kinds[n % kinds.length]!);
        answers.push(t);
        if (t.accessToken) answers.push(await introspect(t.accessToken));
        // A light load: a short pause between rounds, a longer one after a failure.
        await sleep(t.status === t.expected ? 20 : 50);
      }
    });
    return {
      answers,
      async stop() {
        running = false;
        await Promise.all(workers);
        return answers;
      },
    };
  }

  /** Polls until readyz is 200 and an opaque and a JWT token issue and introspect active; returns how long that took. */
  async function timeToRecover(): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < 20_000) {
      const ready = await readyz();
      if (ready.status === 200) {
        const opaque = await token('opaque token');
        const jwt = await token('JWT token');
        if (opaque.accessToken && jwt.accessToken && isActive(await introspect(opaque.accessToken)) && isActive(await introspect(jwt.accessToken))) {
          return performance.now() - started;
        }
      }
      await sleep(100);
    }
    return Infinity;
  }

  /** Introspects every token answered 200 so far; returns a description of each that is not active. */
  async function lostTokens(): Promise<string[]> {
    const lost: string[] = [];
    for (let i = 0; i < issued.length; i += 8) {
      const batch = issued.slice(i, i + 8);
      const results = await Promise.all(batch.map((b) => introspect(b.token)));
      results.forEach((r, j) => {
        if (!isActive(r)) lost.push(`${batch[j]!.opaque ? 'opaque' : 'JWT'}: ${describe(r)}`);
      });
    }
    return lost;
  }

  return { issued, send, token, introspect, readyz, start, timeToRecover, lostTokens };
}
