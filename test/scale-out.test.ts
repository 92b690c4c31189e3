// Two server processes behind a round-robin load balancer, sharing PostgreSQL
// and Redis: every step of a journey may land on either process.
import test from 'ava';
import { serverMode } from './helpers/environment.ts';
import { startTwoProcesses } from './helpers/round-robin-proxy.ts';
import { registerClient, signIn, oidc, TEST_IAT } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';

// The embedded database is single-process by design; this needs DATABASE_URL and REDIS_URL.
const scaleOutTest = serverMode && process.env.REDIS_URL ? test : test.skip;

scaleOutTest('sign-in, refresh, introspection, userinfo and revocation across two processes', async (t) => {
  const { issuer, a, proxy } = await startTwoProcesses(t, { INITIAL_ACCESS_TOKEN: TEST_IAT });

  await createAccount(a.runtime.db, { email: 'two@example.com', password: 'two processes, one truth', roles: ['ops'] });
  const rp = await registerClient(issuer, { scope: 'openid email roles offline_access api:read' });
  const { tokens } = await signIn(rp, { email: 'two@example.com', password: 'two processes, one truth', scope: 'openid email roles offline_access api:read' });
  t.deepEqual(tokens.claims()!.roles, ['ops', 'user']);

  for (let i = 0; i < 2; i++) {
    t.true((await oidc.tokenIntrospection(rp, tokens.access_token)).active, `introspection ${i}`);
    t.is((await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)).email, 'two@example.com');
  }
  const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
  const replay = await oidc.refreshTokenGrant(rp, tokens.refresh_token!).catch((err: unknown) => err);
  t.is((replay as oidc.ResponseBodyError).error, 'invalid_grant');
  for (let i = 0; i < 2; i++) {
    t.false((await oidc.tokenIntrospection(rp, refreshed.access_token)).active, `revoked everywhere ${i}`);
  }
  t.true(proxy.hits[0]! > 5 && proxy.hits[1]! > 5, `both processes served: ${proxy.hits.join(' / ')}`);
});

scaleOutTest('QR sign-in with the desktop and the phone on different processes', async (t) => {
  const { beginAuthorization, completeAuthorization, REDIRECT_URI } = await import('./helpers/oidc.ts');
  const { createBrowser, readForm } = await import('./helpers/browser.ts');
  const { decodeQrSvg } = await import('./helpers/qr-decode.ts');
  const { issuer, a, proxy } = await startTwoProcesses(t, { INITIAL_ACCESS_TOKEN: TEST_IAT });

  const phoneAccount = await createAccount(a.runtime.db, { email: 'qr-phone@example.com', password: 'scale out phone pw' });
  const rp = await registerClient(issuer, { scope: 'openid' });
  const desktop = await beginAuthorization(rp, 'openid');
  const qrUrl = decodeQrSvg(/<svg[\s\S]*?<\/svg>/.exec(desktop.page.body)![0]);
  const id = /data-id="([^"]+)"/.exec(desktop.page.body)![1]!;
  const base = /data-base="([^"]+)"/.exec(desktop.page.body)![1]!;

  const phone = createBrowser();
  const login = await phone.follow(qrUrl);
  const form = readForm(login, /\/code$/);
  const approval = await phone.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: 'qr-phone@example.com', password: 'scale out phone pw' });
  const approve = readForm(approval, /\/approve$/);
  await phone.submit(approve.action, approve.hidden);

  const states = [];
  for (let i = 0; i < 2; i++) {
    const status = await desktop.browser.request(`${issuer}${base}/qr/${id}`, { headers: { accept: 'application/json' } });
    states.push((JSON.parse(status.body) as { state: string }).state);
  }
  t.deepEqual(states, ['approved', 'approved'], 'both processes see the approval');
  const landed = await desktop.browser.follow(`${issuer}${base}/qr/${id}/complete`, REDIRECT_URI);
  t.is((await completeAuthorization(rp, desktop, landed)).claims()!.sub, phoneAccount);
  t.true(proxy.hits[0]! > 3 && proxy.hits[1]! > 3, proxy.hits.join(' / '));
});
