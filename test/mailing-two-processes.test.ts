// Issue 13 §3: several server processes share one mailing. Two servers (child
// processes of server/main.ts) on one PostgreSQL and Redis, each sending to its own
// real SMTP server, so the test sees who sent what: both take part, each recipient
// is claimed by one process and gets the mailing once, and MAILING_RATE holds for
// the two together (the pace is shared in the database: server/mailings/send.ts).
// Server mode only: an embedded DATA_DIR is one Enot ID process's (a second server
// on the same DATA_DIR refuses to start), so there is nothing to share.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { startTestServer } from './helpers/server.ts';
import { startServerProcess } from './helpers/process.ts';
import { freePort, serverMode, testEnvironment } from './helpers/environment.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { TEST_IAT } from './helpers/oidc.ts';

const RECIPIENTS = 300;
const RATE = 1_200; // per minute for all processes together: 20 a second, so 300 take 15 s
const SUBJECT = 'Shared news';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

(serverMode ? test : test.skip)('two server processes share one mailing: both send, nobody twice, at the one MAILING_RATE', async (t) => {
  t.timeout(180_000);
  const smtpA = await startSmtpServer();
  const smtpB = await startSmtpServer();
  t.teardown(() => Promise.all([smtpA.close(), smtpB.close()]));
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT, MAILING_RATE: String(RATE) });
  t.teardown(() => environment.cleanup());

  const setup = await startTestServer({}, environment);
  let mailingId: string;
  let admin: Awaited<ReturnType<typeof machineClient>>;
  try {
    const rows = Array.from({ length: RECIPIENTS }, (_, i) => ({ id: randomUUID(), email: `shared${i}@example.com`, email_verified_at: new Date() }));
    await setup.runtime.db('accounts').insert(rows);
    admin = await machineClient(setup);
    const created = await adminApi(setup.issuer).call(t, 'post', '/mailings', {
      token: await clientToken(admin, setup.issuer),
      body: { name: 'shared', templates: { en: { subject: `${SUBJECT} for {{email}}`, text: 'Hello.' } }, audience: { account_ids: rows.map((r) => r.id) } },
    });
    t.is(created.status, 201);
    mailingId = created.body.id;
  } finally {
    await setup.stop();
  }

  // One issuer; the second process listens on another port.
  const a = await startServerProcess({ ...environment.env, SMTP_URL: smtpA.url });
  t.teardown(() => void a.child.kill('SIGKILL'));
  const b = await startServerProcess({ ...environment.env, SMTP_URL: smtpB.url, PORT: String(await freePort()) });
  t.teardown(() => void b.child.kill('SIGKILL'));

  const issuer = environment.env.ISSUER!;
  const api = adminApi(issuer);
  const token = await clientToken(admin, issuer);
  const started = Date.now();
  t.is((await api.call(t, 'post', `/mailings/${mailingId}/start`, { token })).status, 200);
  let progress;
  do {
    await sleep(250);
    progress = (await api.call(t, 'get', `/mailings/${mailingId}`, { token })).body.progress;
  } while (progress.sent < RECIPIENTS && Date.now() - started < 120_000);
  const elapsed = Date.now() - started;
  await sleep(1_000);
  t.deepEqual((await api.call(t, 'get', `/mailings/${mailingId}`, { token })).body.progress, { queued: 0, sending: 0, sent: RECIPIENTS, failed: 0, skipped: 0 });

  const fromA = smtpA.messages.filter((m) => m.subject.startsWith(SUBJECT));
  const fromB = smtpB.messages.filter((m) => m.subject.startsWith(SUBJECT));
  t.log(`process A sent ${fromA.length}, process B ${fromB.length}, in ${elapsed} ms`);
  t.true(fromA.length > 0 && fromB.length > 0, 'both processes took part');
  const all = [...fromA, ...fromB];
  t.is(all.length, RECIPIENTS, 'no message twice');
  t.is(new Set(all.map((m) => m.headers.get('message-id'))).size, RECIPIENTS, 'one Message-ID per recipient');
  t.is(new Set(all.map((m) => m.envelopeTo[0])).size, RECIPIENTS, 'every address');
  // Shared pace: 300 at 20 a second take 15 s for both together; each at its own pace would take half.
  t.true(elapsed >= ((RECIPIENTS - 1) / (RATE / 60)) * 1000 * 0.9, `took ${elapsed} ms`);

  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  t.is((await a.exited).code, 0);
  t.is((await b.exited).code, 0);
});
