// GET /metrics: Prometheus text behind a bearer token; absent without one.
import test from 'ava';
import { startTestServer } from './helpers/server.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';

const METRICS_TOKEN = 'metrics-token-0123456789-0123456789-abcdef';

function sample(text: string, name: string, labels: Record<string, string>): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('metrics count requests, tokens, sign-ins and rate limits, behind a token', async (t) => {
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, METRICS_TOKEN });
  t.teardown(() => server.stop());
  const rp = await registerClient(server.issuer);
  await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  await oidc.clientCredentialsGrant(rp, { scope: 'api:read' });
  await createAccount(server.runtime.db, { email: 'metered@example.com', password: 'counted by the hour 1' });
  await signIn(rp, { email: 'metered@example.com', password: 'counted by the hour 1', scope: 'openid' });
  await t.throwsAsync(signIn(rp, { email: 'metered@example.com', password: 'not the password', scope: 'openid' }));

  const refused = await fetch(`${server.url}/metrics`);
  t.is(refused.status, 401);
  const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
  t.is(wrong.status, 401);

  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /text\/plain/);
  const text = await response.text();
  t.true(sample(text, 'enot_tokens_issued_total', { grant_type: 'client_credentials' }) >= 2);
  t.true(sample(text, 'enot_tokens_issued_total', { grant_type: 'authorization_code' }) >= 1);
  t.true(sample(text, 'enot_http_requests_total', { route: 'token', status: '200' }) >= 3);
  t.true(sample(text, 'enot_sign_ins_total', { method: 'password', outcome: 'success' }) >= 1);
  t.true(sample(text, 'enot_sign_ins_total', { method: 'password', outcome: 'failure' }) >= 1);
  t.regex(text, /enot_http_request_duration_seconds_bucket\{/);
  t.notRegex(text, /metered@example\.com/, 'no personal data in labels');
});

test('without METRICS_TOKEN there is no /metrics', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.stop());
  const response = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/json' } });
  t.is(response.status, 404);
});
