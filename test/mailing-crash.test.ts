// Issue 13 §3: a mailing survives its server being killed. The server runs as a
// child process (server/main.ts) and sends a mailing to RECIPIENTS accounts through
// a real SMTP server in this process. When a third has arrived, the SMTP server holds
// its answer to one message (fully received, not yet acknowledged: the one window in
// which the sender cannot know whether it was delivered) and the server is killed
// with SIGKILL. Started again on the same storage, it finishes the mailing:
//   - every recipient got it, and exactly one Message-ID per recipient;
//   - the held message is the only one that arrived twice, with the same Message-ID
//     (at-least-once for the one message in flight; docs/mailings.md).
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { startTestServer } from './helpers/server.ts';
import { startServerProcess } from './helpers/process.ts';
import { testEnvironment } from './helpers/environment.ts';
import { startSmtpServer, type CapturedMail } from './helpers/smtp.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { TEST_IAT } from './helpers/oidc.ts';

const RECIPIENTS = 2_000;
const RATE = 600_000; // per minute: the pace is not what this test is about
const SUBJECT = 'Crash-safe news';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('SIGKILL mid-mailing, start again: every recipient gets it, one Message-ID each, only the message in flight twice', async (t) => {
  t.timeout(240_000);
  let held: CapturedMail | undefined;
  let heldAt: (() => void) | undefined;
  const holding = new Promise<void>((resolve) => (heldAt = resolve));
  let arrived = 0;
  const smtp = await startSmtpServer({
    beforeReply(mail) {
      if (!mail.subject.startsWith(SUBJECT) || held || ++arrived < Math.floor(RECIPIENTS / 3)) return;
      held = mail;
      heldAt!();
      return new Promise<void>(() => {}); // never answered: the sender dies waiting
    },
  });
  t.teardown(() => smtp.close());
  const environment = await testEnvironment({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url, MAILING_RATE: String(RATE) });
  t.teardown(() => environment.cleanup());

  // The accounts, an admin client and the mailing (a draft), written while no server runs.
  const setup = await startTestServer({}, environment);
  let mailingId: string;
  let admin: Awaited<ReturnType<typeof machineClient>>;
  try {
    const before = new Date(Date.now() - 1000).toISOString();
    const rows = Array.from({ length: RECIPIENTS }, (_, i) => ({ id: randomUUID(), email: `crash${i}@example.com`, email_verified_at: new Date() }));
    for (let i = 0; i < rows.length; i += 500) await setup.runtime.db('accounts').insert(rows.slice(i, i + 500));
    admin = await machineClient(setup);
    const api = adminApi(setup.issuer);
    const created = await api.call(t, 'post', '/mailings', {
      token: await clientToken(admin, setup.issuer),
      body: { name: 'crash', templates: { en: { subject: `${SUBJECT} for {{email}}`, text: 'Hello {{email}}.' } }, audience: { created_from: before } },
    });
    t.is(created.status, 201);
    mailingId = created.body.id;
  } finally {
    await setup.stop();
  }

  const issuer = environment.env.ISSUER!;
  const api = adminApi(issuer);
  const first = await startServerProcess(environment.env);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const started = Date.now();
  t.is((await api.call(t, 'post', `/mailings/${mailingId}/start`, { token: await clientToken(admin, issuer) })).status, 200);
  await holding;
  first.child.kill('SIGKILL');
  t.is((await first.exited).signal, 'SIGKILL');
  const atKill = smtp.messages.filter((m) => m.subject.startsWith(SUBJECT)).length;
  t.log(`killed after ${Date.now() - started} ms with ${atKill} of ${RECIPIENTS} received (the last one unanswered)`);
  t.true(atKill < RECIPIENTS / 2, 'killed mid-mailing');

  const second = await startServerProcess(environment.env);
  t.teardown(() => void second.child.kill('SIGKILL'));
  const token = await clientToken(admin, issuer);
  let progress;
  do {
    await sleep(500);
    progress = (await api.call(t, 'get', `/mailings/${mailingId}`, { token })).body.progress;
  } while (progress.sent < RECIPIENTS && Date.now() - started < 200_000);
  t.log(`finished ${Date.now() - started} ms after the start`);
  await sleep(2_000); // anything still on its way arrives
  t.deepEqual((await api.call(t, 'get', `/mailings/${mailingId}`, { token })).body.progress, { queued: 0, sending: 0, sent: RECIPIENTS, failed: 0, skipped: 0 });
  second.child.kill('SIGTERM');
  t.is((await second.exited).code, 0);

  const mails = smtp.messages.filter((m) => m.subject.startsWith(SUBJECT));
  const idsByAddress = new Map<string, string[]>();
  for (const m of mails) idsByAddress.set(m.envelopeTo[0]!, [...(idsByAddress.get(m.envelopeTo[0]!) ?? []), m.headers.get('message-id')!]);
  t.is(idsByAddress.size, RECIPIENTS, 'every address got it');
  t.is(new Set(mails.map((m) => m.headers.get('message-id'))).size, RECIPIENTS, 'one Message-ID per recipient');
  const twice = [...idsByAddress].filter(([, ids]) => ids.length > 1);
  t.deepEqual(twice, [[held!.envelopeTo[0]!, [held!.headers.get('message-id')!, held!.headers.get('message-id')!]]],
    'only the message whose 250 never came went again, with its Message-ID');
  t.is(mails.length, RECIPIENTS + 1);
  t.regex(held!.headers.get('message-id')!, new RegExp(`^<${mailingId}\\.[0-9a-f-]{36}@127\\.0\\.0\\.1>$`));
});
