// Graceful shutdown: SIGTERM stops accepting, finishes what is in flight, exits 0.
import test from 'ava';
import http from 'node:http';
import { startServerProcess } from './helpers/process.ts';
import { testEnvironment } from './helpers/environment.ts';
import { registerClient, TEST_IAT } from './helpers/oidc.ts';

test('a request in flight when SIGTERM arrives still gets its answer, then exit 0', async (t) => {
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => environment.cleanup());
  const server = await startServerProcess(environment.env);
  const rp = await registerClient(environment.env.ISSUER!);
  const { client_id, client_secret } = rp.clientMetadata();
  const body = 'grant_type=client_credentials&scope=api%3Aread';
  const url = new URL('/token', environment.env.ISSUER);

  // Send half the body, signal, then the rest: the request is in flight across SIGTERM.
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
        accept: 'application/json',
      },
    });
    request.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    request.on('error', reject);
    request.write(body.slice(0, 10));
    setTimeout(() => {
      server.child.kill('SIGTERM');
      setTimeout(() => request.end(body.slice(10)), 500);
    }, 200);
  });

  const answered = await response;
  t.is(answered.status, 200, answered.text);
  t.truthy((JSON.parse(answered.text) as { access_token?: string }).access_token);
  const finished = await server.exited;
  t.is(finished.code, 0);
  t.regex(finished.stdout, /shutting down/);
  // New connections are refused once it is gone.
  await t.throwsAsync(fetch(`${environment.env.ISSUER}/healthz`));
});
