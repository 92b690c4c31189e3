// Graceful shutdown under load: the real entry point (server/main.ts) as a
// child process takes a steady stream of requests from keep-alive clients;
// SIGTERM arrives in the middle. Every request started before SIGTERM (its
// headers written) gets a complete answer, also the slow ones whose body is
// still arriving; requests started afterwards may be refused once the server
// has stopped listening (counted apart); the process exits 0, promptly.
import test from 'ava';
import http from 'node:http';
import { startServerProcess } from '../helpers/process.ts';
import { testEnvironment } from '../helpers/environment.ts';
import { registerClient, TEST_IAT } from '../helpers/oidc.ts';

const FAST_WORKERS = 6;
/** Workers whose requests take ~300 ms to send: some are surely in flight at SIGTERM. */
const SLOW_WORKERS = 3;

interface Outcome {
  slow: boolean;
  /** When the request's first bytes (its headers) were written to the connection (performance.now()). */
  sentAt: number;
  doneAt: number;
  status?: number;
  /** The whole body arrived and parsed (for 200: a token). */
  complete: boolean;
  error?: string;
}

test('SIGTERM under load: no request started before it fails, exit 0', async (t) => {
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => environment.cleanup());
  const server = await startServerProcess(environment.env);
  t.teardown(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  const rp = await registerClient(environment.env.ISSUER!);
  const { client_id, client_secret } = rp.clientMetadata();
  const authorization = `Basic ${Buffer.from(`${client_id}:${client_secret as string}`).toString('base64')}`;
  const url = new URL('/token', environment.env.ISSUER);
  const body = 'grant_type=client_credentials&scope=api%3Aread';
  // Keep-alive, as real clients: shutdown must also deal with open idle connections.
  const agent = new http.Agent({ keepAlive: true, maxSockets: FAST_WORKERS + SLOW_WORKERS });
  t.teardown(() => agent.destroy());

  function tokenRequest(slow: boolean): Promise<Outcome> {
    return new Promise((resolve) => {
      let sentAt = Infinity;
      let settled = false;
      const finish = (o: Omit<Outcome, 'slow' | 'sentAt' | 'doneAt'>) => {
        if (settled) return;
        settled = true;
        resolve({ slow, sentAt, doneAt: performance.now(), ...o });
      };
      const request = http.request(url, {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          authorization,
          accept: 'application/json',
        },
      });
      request.on('response', (response) => {
        let text = '';
        response.on('data', (d) => (text += d));
        response.on('end', () => {
          let complete = false;
          try {
            const parsed = JSON.parse(text) as { access_token?: string; error?: string };
            complete = response.statusCode === 200 ? typeof parsed.access_token === 'string' : typeof parsed.error === 'string';
          } catch {
            complete = false;
          }
          finish({ status: response.statusCode, complete });
        });
        response.on('error', (err) => finish({ status: response.statusCode, complete: false, error: String(err) }));
      });
      request.on('error', (err: NodeJS.ErrnoException) => finish({ complete: false, error: err.code ?? String(err) }));
      request.setTimeout(15_000, () => request.destroy(new Error('no answer within 15 s')));
      const started = () => (sentAt = Math.min(sentAt, performance.now()));
      if (slow) {
        // Headers and a part of the body now, the rest 300 ms later: in flight for a while.
        request.write(body.slice(0, 10), started);
        setTimeout(() => request.end(body.slice(10)), 300);
      } else {
        request.end(body, started);
      }
    });
  }

  const outcomes: Outcome[] = [];
  let running = true;
  const workers = [
    ...Array.from({ length: FAST_WORKERS }, () => false),
    ...Array.from({ length: SLOW_WORKERS }, () => true),
  ].map(async (slow) => {
    while (running) {
      const outcome = await tokenRequest(slow);
      outcomes.push(outcome);
      // Once refused, the server is gone: try again a little later (and stop when the test does).
      if (outcome.error) await new Promise((r) => setTimeout(r, 50));
    }
  });

  await new Promise((r) => setTimeout(r, 1_500));
  const signalledAt = performance.now();
  server.child.kill('SIGTERM');
  const finished = await server.exited;
  const exitedAt = performance.now();
  // Keep sending a little after the exit: those are refused.
  await new Promise((r) => setTimeout(r, 300));
  running = false;
  await Promise.all(workers);

  const before = outcomes.filter((o) => o.sentAt < signalledAt);
  const inFlight = before.filter((o) => o.doneAt > signalledAt);
  const after = outcomes.filter((o) => o.sentAt >= signalledAt);
  const notSent = outcomes.filter((o) => o.sentAt === Infinity);
  const failedBefore = before.filter((o) => o.status !== 200 || !o.complete);
  const answeredAfter = after.filter((o) => o.status !== undefined);
  const refusedAfter = [...after, ...notSent].filter((o) => o.status === undefined);
  t.log(
    `${outcomes.length} requests: ${before.length} started before SIGTERM (${inFlight.length} of them still in flight when it came, ` +
      `${inFlight.filter((o) => o.slow).length} slow), ${failedBefore.length} of those failed; after SIGTERM ${answeredAfter.length} answered, ` +
      `${refusedAfter.length} refused (${[...new Set(refusedAfter.map((o) => o.error))].join(', ')}); exit ${finished.code} after ${Math.round(exitedAt - signalledAt)} ms`,
  );

  t.true(before.length > 50, 'there was load');
  t.true(inFlight.filter((o) => o.slow).length > 0, 'some requests were still being sent when SIGTERM arrived');
  // Keep-alive clients are told to go (Connection: close), so the server need not wait for its shutdown timeout.
  t.true(exitedAt - signalledAt < 4_000, `exited ${Math.round(exitedAt - signalledAt)} ms after SIGTERM (shutdown timeout: 5 s)`);
  t.deepEqual(failedBefore.map((o) => `${o.slow ? 'slow' : 'fast'} ${o.status ?? o.error} complete=${o.complete} started ${Math.round(signalledAt - o.sentAt)} ms before SIGTERM`), [], 'no request started before SIGTERM failed');
  // Whatever was answered after SIGTERM was answered properly (the server finishes, it does not break off).
  t.true(answeredAfter.every((o) => o.status === 200 && o.complete), JSON.stringify(answeredAfter.filter((o) => o.status !== 200 || !o.complete)));
  // Refusals are connection-level: the server stopped accepting.
  t.true(refusedAfter.length > 0, 'requests after the exit are refused');
  t.is(finished.code, 0, finished.stderr);
  t.regex(finished.stdout, /shutting down/);
});
