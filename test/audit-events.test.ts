// Security events in the audit log (issue 11 §3; ASVS 7.2.1/7.2.2): sign-ins by
// password, code and QR, codes sent, refresh token replay, QR approval — each
// with actor, target, address and outcome, and never the password, code or token
// (ASVS 7.1.1). Through the real pages, SMTP and token endpoint.
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpCapture } from './helpers/smtp.ts';
import { registerClient, beginAuthorization, completeAuthorization, signIn, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm } from './helpers/browser.ts';
import { decodeQrSvg } from './helpers/qr-decode.ts';
import { scannedQr } from './helpers/qr-sign-in.ts';
import { accountByPassword, stepUpByPassword, submitForm } from './helpers/account-pages.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import type { AuditRecord } from '../server/audit/record.ts';

let server: TestServer;
let smtp: SmtpCapture;
let rp: oidc.Configuration;
const SCOPE = 'openid email offline_access';

test.before(async () => {
  smtp = await startSmtpServer();
  server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT, SMTP_URL: smtp.url });
  rp = await registerClient(server.issuer, { scope: SCOPE, client_name: 'Audit App' });
});

test.after.always(async () => {
  await server?.stop();
  await smtp?.close();
});

/** The records matching `where`, oldest first; waits a little for the ones written from a provider event. */
async function records(where: Partial<AuditRecord>, atLeast = 1): Promise<AuditRecord[]> {
  for (let tries = 0; ; tries++) {
    const rows = (await server.runtime.db('audit_log').where(where).orderBy('id')) as AuditRecord[];
    if (rows.length >= atLeast || tries >= 50) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test.serial('password sign-in: a failure and a success, with actor, target, address, and no password anywhere', async (t) => {
  const password = 'audit me gently 42';
  const wrong = 'not the audited one 7';
  const id = await createAccount(server.runtime.db, { email: 'pw.audit@example.com', password });

  const started = await beginAuthorization(rp, 'openid');
  const form = readForm(started.page, /\/code$/);
  const refused = await started.browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: 'pw.audit@example.com', password: wrong });
  t.is(refused.status, 401);
  await signIn(rp, { email: 'pw.audit@example.com', password, scope: 'openid' });

  const [failure] = await records({ action: 'sign_in.password', outcome: 'failure', target_id: id });
  t.truthy(failure);
  t.is(failure!.actor_kind, 'anonymous', 'a wrong password proves nobody');
  t.is(failure!.actor_id, null);
  t.is(failure!.target_kind, 'account');
  t.regex(failure!.ip ?? '', /127\.0\.0\.1/);
  t.truthy(failure!.user_agent);
  t.is(failure!.details.reason, 'wrong_credentials');

  const [success] = await records({ action: 'sign_in.password', outcome: 'success', actor_id: id });
  t.truthy(success);
  t.is(success!.actor_kind, 'account');
  t.is(success!.target_id, id);
  t.regex(success!.ip ?? '', /127\.0\.0\.1/);

  const everything = JSON.stringify(await server.runtime.db('audit_log').select('*'));
  t.false(everything.includes(password));
  t.false(everything.includes(wrong));
});

test.serial('an unknown account\'s failed sign-in has no target', async (t) => {
  const started = await beginAuthorization(rp, 'openid');
  const form = readForm(started.page, /\/code$/);
  const refused = await started.browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: 'nobody.audit@example.com', password: 'whatever it is 123' });
  t.is(refused.status, 401);
  const rows = (await records({ action: 'sign_in.password', outcome: 'failure' })).filter((row) => row.details.reason === 'unknown_account');
  t.is(rows.length, 1);
  t.is(rows[0]!.target_id, null);
  t.false(JSON.stringify(rows[0]).includes('nobody.audit'), 'the typed identifier is not recorded');
});

/** Starts a sign-in at the client and asks for a code by mail to `email`: the code page and the code sent. */
async function codeSent(email: string) {
  const started = await beginAuthorization(rp, 'openid');
  const form = readForm(started.page, /\/code$/);
  const codePage = await started.browser.submit(form.action, { ...form.hidden, identifier: email }, REDIRECT_URI);
  const mail = await smtp.nextMessageTo(email, 10_000);
  const code = /\b(\d{6})\b/.exec(mail.text ?? '')![1]!;
  return { started, codePage, mail, code };
}

test.serial('code sign-in: code.sent and sign_in.code, without the code or the address', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'code.audit@example.com' });
  const { started, codePage, mail, code } = await codeSent('code.audit@example.com');
  t.is(mail.envelopeTo[0], 'code.audit@example.com');
  const entry = readForm(codePage, /\/code$/);
  const done = await started.browser.submit(entry.action, { ...entry.hidden, code }, REDIRECT_URI);
  t.truthy((await completeAuthorization(rp, started, done)).access_token);

  const [sent] = await records({ action: 'code.sent', target_id: id });
  t.truthy(sent);
  t.is(sent!.outcome, 'success');
  t.is(sent!.actor_kind, 'anonymous');
  t.deepEqual(sent!.details, { channel: 'email', purpose: 'sign-in', flow: 'sign-in' });
  t.regex(sent!.ip ?? '', /127\.0\.0\.1/);

  const [signedIn] = await records({ action: 'sign_in.code', outcome: 'success', actor_id: id });
  t.truthy(signedIn);
  t.is(signedIn!.actor_kind, 'account');
  t.is(signedIn!.target_id, id);

  for (const row of [sent, signedIn]) {
    const text = JSON.stringify(row);
    t.false(text.includes(code), 'no code in the record');
    t.false(text.includes('code.audit@'), 'no address in the record');
  }
});

test.serial('a replayed refresh token is recorded against its account, without the token', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'replay.audit@example.com', password: 'replays are noticed 9' });
  const { tokens } = await signIn(rp, { email: 'replay.audit@example.com', password: 'replays are noticed 9', scope: SCOPE });
  const first = tokens.refresh_token!;
  await oidc.refreshTokenGrant(rp, first);
  t.is(await records({ action: 'refresh_token.replayed', target_id: id }, 0).then((rows) => rows.length), 0, 'a rotation is no replay');
  const replay = await oidc.refreshTokenGrant(rp, first).catch((err: unknown) => err);
  t.is((replay as oidc.ResponseBodyError).error, 'invalid_grant');

  const [row] = await records({ action: 'refresh_token.replayed', target_id: id });
  t.truthy(row);
  t.is(row!.outcome, 'refused');
  t.is(row!.details.client_id, rp.clientMetadata().client_id);
  t.regex(row!.ip ?? '', /127\.0\.0\.1/);
  t.false(JSON.stringify(row).includes(first), 'no refresh token in the record');
});

test.serial('a QR approval on the phone and the desktop\'s sign-in are recorded', async (t) => {
  const owner = { email: 'qr.audit@example.com', password: 'approves from afar 5' };
  const id = await createAccount(server.runtime.db, owner);
  const { desktop, svg, qrId, base, phone, approval } = await scannedQr(server.issuer, rp, owner);
  const approve = readForm(approval, /\/approve$/);
  t.regex((await phone.submit(approve.action, approve.hidden)).body, /Continue on the other device/);
  const landed = await desktop.browser.follow(`${server.issuer}${base}/qr/${qrId}/complete`, REDIRECT_URI);
  t.is((await completeAuthorization(rp, desktop, landed)).claims()!.sub, id);

  const [approved] = await records({ action: 'qr.approved', actor_id: id });
  t.truthy(approved);
  t.is(approved!.outcome, 'success');
  t.is(approved!.target_id, id);
  t.is(approved!.details.qr_login, qrId);
  t.is(approved!.details.via, 'phone');
  const [signedIn] = await records({ action: 'sign_in.qr', actor_id: id });
  t.truthy(signedIn);
  t.is(signedIn!.details.qr_login, qrId);
  const qrUrl = decodeQrSvg(svg);
  t.false(JSON.stringify([approved, signedIn]).includes(qrUrl.split('/').pop()!), 'no QR token in the records');
});

test.serial('a QR denial on the phone is recorded, and nobody signs in', async (t) => {
  const owner = { email: 'qr.deny.audit@example.com', password: 'denies from afar 6' };
  const id = await createAccount(server.runtime.db, owner);
  const { qrId, phone, approval } = await scannedQr(server.issuer, rp, owner);
  const deny = readForm(approval, /\/deny$/);
  t.regex((await phone.submit(deny.action, deny.hidden)).body, /Nobody was signed in/);
  const [denied] = await records({ action: 'qr.denied', actor_id: id });
  t.truthy(denied);
  t.is(denied!.outcome, 'success');
  t.is(denied!.details.qr_login, qrId);
  t.deepEqual(await records({ action: 'sign_in.qr', actor_id: id }, 0), []);
});

test.serial('step-up on /account (a failure, then success) and the email change are recorded, without the addresses', async (t) => {
  const owner = { email: 'change.audit@example.com', password: 'changing my address 8' };
  const id = await createAccount(server.runtime.db, owner);
  const browser = createBrowser();
  const login = readForm(await browser.follow(`${server.issuer}/account`), /\/code$/);
  await browser.submit(login.action.replace(/\/code$/, '/login'), { ...login.hidden, identifier: owner.email, password: owner.password });
  const reauth = readForm(await browser.follow(`${server.issuer}/account/reauth`), /\/reauth\/password$/);
  t.is((await browser.submit(reauth.action, { ...reauth.hidden, password: 'not it at all 0' })).status, 401);
  t.true((await browser.submit(reauth.action, { ...reauth.hidden, password: owner.password })).url.endsWith('/account?reauthed'));
  const change = readForm(await browser.follow(`${server.issuer}/account`), /\/account\/identifiers$/);
  const codePage = await browser.submit(change.action, { ...change.hidden, identifier: 'changed.audit@example.com', via: 'email' });
  // By recipient: the earlier QR test's desktop was a new browser for its account, and
  // that account's security notice (queued, sent by a worker) may arrive at any time.
  const mail = await smtp.nextMessageTo('changed.audit@example.com', 10_000);
  t.regex(mail.subject, /code/i);
  const code = /\b(\d{6})\b/.exec(mail.text ?? '')![1]!;
  const entry = readForm(codePage, /\/code$/);
  t.true((await browser.submit(entry.action, { ...entry.hidden, code })).url.endsWith('/account?saved'));
  const notice = await smtp.nextMessageTo('change.audit@example.com', 10_000); // the notice to the old address
  t.notRegex(notice.text ?? '', /\b\d{6}\b/, 'a notice, not a code');

  const steps = await records({ action: 'reauth', actor_id: id }, 2);
  t.deepEqual(steps.map((row) => row.outcome), ['failure', 'success']);
  t.deepEqual(steps.map((row) => row.details.method), ['password', 'password']);
  const [sent] = await records({ action: 'code.sent', actor_id: id });
  t.is(sent!.actor_kind, 'account', 'the signed-in account asked for the code');
  t.deepEqual(sent!.details, { channel: 'email', purpose: 'confirm', flow: 'confirm' });
  const [changed] = await records({ action: 'identifier.changed', actor_id: id });
  t.is(changed!.outcome, 'success');
  t.deepEqual(changed!.details, { kind: 'email', replaced: true });
  const text = JSON.stringify([...steps, sent, changed]);
  for (const secret of [owner.password, 'not it at all 0', code, 'changed.audit@', 'change.audit@']) t.false(text.includes(secret), secret);
});

/** Fails unless no field of `row` (details included) holds any of `secrets`. */
function assertNoSecrets(t: { false(actual: boolean, message?: string): void }, row: AuditRecord | undefined, secrets: string[]) {
  const fields = Object.entries(row ?? {}).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value) ?? ''] as const);
  for (const secret of secrets) for (const [name, value] of fields) t.false(value.includes(secret), `${name} holds ${secret}`);
}

test.serial('a wrong code in a code sign-in is a failure against the known account, without the code', async (t) => {
  const id = await createAccount(server.runtime.db, { email: 'wrong.code.audit@example.com' });
  const { started, codePage, code } = await codeSent('wrong.code.audit@example.com');
  const wrong = code === '123456' ? '654321' : '123456';
  const entry = readForm(codePage, /\/code$/);
  t.is((await started.browser.submit(entry.action, { ...entry.hidden, code: wrong }, REDIRECT_URI)).status, 400);

  const rows = await records({ action: 'sign_in.code', target_id: id });
  t.is(rows.length, 1, 'one row for one wrong code, and no success');
  const [failure] = rows;
  t.is(failure!.outcome, 'failure');
  t.is(failure!.actor_kind, 'anonymous', 'a wrong code proves nobody');
  t.is(failure!.actor_id, null);
  t.is(failure!.target_kind, 'account');
  t.deepEqual(failure!.details, { flow: 'sign-in', reason: 'code_invalid' });
  t.regex(failure!.ip ?? '', /127\.0\.0\.1/);
  t.truthy(failure!.user_agent);
  assertNoSecrets(t, failure, [wrong, code, 'wrong.code.audit@']);
});

test.serial('a password change on /account: a refused weak one, then the change, without either password', async (t) => {
  const owner = { email: 'pw.change.audit@example.com', password: 'my first audited password 1' };
  const weak = 'iloveyou';
  const next = 'my second audited password 2';
  const id = await createAccount(server.runtime.db, owner);
  const { browser } = await accountByPassword(server.issuer, owner.email, owner.password);
  t.true((await stepUpByPassword(server.issuer, browser, owner.password)).url.endsWith('/account?reauthed'));
  const passwordPage = await browser.follow(`${server.issuer}/account/password`);
  t.is((await submitForm(browser, passwordPage, /\/account\/password$/, { password: weak })).status, 400);
  const saved = await submitForm(browser, passwordPage, /\/account\/password$/, { password: next });
  t.true(saved.url.endsWith('/account/password?saved'), saved.url);

  const rows = await records({ action: 'password.changed', target_id: id }, 2);
  t.deepEqual(rows.map((row) => row.outcome), ['refused', 'success']);
  const [refused, changed] = rows;
  t.is(refused!.actor_id, id);
  t.is(refused!.details.method, 'account');
  t.truthy(refused!.details.reason, 'the policy\'s reason, not the password');
  t.is(changed!.actor_kind, 'account');
  t.is(changed!.actor_id, id);
  t.is(changed!.target_kind, 'account');
  t.is(changed!.target_id, id);
  t.deepEqual(changed!.details, { method: 'account', replaced: true });
  for (const row of rows) {
    t.regex(row.ip ?? '', /127\.0\.0\.1/);
    t.truthy(row.user_agent);
  }
  // The notice's event name (password.changed or password.set) is no audit action of its own.
  t.deepEqual(await records({ action: 'password.set' as AuditRecord['action'], target_id: id }, 0), []);
  for (const row of rows) assertNoSecrets(t, row, [owner.password, weak, next]);
});

test.serial('a password recovered by code is recorded as password.changed, without either password or the code', async (t) => {
  const owner = { email: 'recover.audit@example.com', password: 'forgotten audited password 3' };
  const next = 'recovered audited password 4';
  const id = await createAccount(server.runtime.db, owner);
  const started = await beginAuthorization(rp, 'openid');
  const href = [...started.page.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&')).find((h) => h.split('?')[0]!.endsWith('/recover'))!;
  const recover = await started.browser.follow(new URL(href, started.page.url).href, REDIRECT_URI);
  const ask = readForm(recover, /\/recover$/);
  const codePage = await started.browser.submit(ask.action, { ...ask.hidden, identifier: owner.email }, REDIRECT_URI);
  const mail = await smtp.nextMessageTo(owner.email, 10_000);
  const code = /\b(\d{6})\b/.exec(mail.text ?? '')![1]!;
  const entry = readForm(codePage, /\/code$/);
  const passwordPage = await started.browser.submit(entry.action, { ...entry.hidden, code }, REDIRECT_URI);
  const choose = readForm(passwordPage, /\/password$/);
  const done = await started.browser.submit(choose.action, { ...choose.hidden, password: next }, REDIRECT_URI);
  t.is((await completeAuthorization(rp, started, done)).claims()!.sub, id);

  const rows = await records({ action: 'password.changed', target_id: id });
  t.is(rows.length, 1);
  const [changed] = rows;
  t.is(changed!.outcome, 'success');
  t.is(changed!.actor_kind, 'account', 'the code proved the person');
  t.is(changed!.actor_id, id);
  t.is(changed!.target_kind, 'account');
  t.deepEqual(changed!.details, { via: 'recover', created: false });
  t.regex(changed!.ip ?? '', /127\.0\.0\.1/);
  t.truthy(changed!.user_agent);
  const [signedIn] = await records({ action: 'sign_in.code', actor_id: id });
  t.is(signedIn!.outcome, 'success');
  t.is(signedIn!.details.flow, 'recover');
  for (const row of [changed, signedIn]) assertNoSecrets(t, row, [owner.password, next, code, 'recover.audit@']);
});

test.serial('a sign-in goes on when its audit record cannot be written', async (t) => {
  const db = server.runtime.db;
  const owner = { email: 'unaudited@example.com', password: 'the log is down today 3' };
  const id = await createAccount(db, owner);
  // The database itself refuses the record (no mock): as a full disk or a lost permission would.
  await db.raw(`create function refuse_sign_in_audit() returns trigger language plpgsql as $$ begin raise exception 'audit unavailable'; end $$`);
  await db.raw(`create trigger refuse_sign_in_audit before insert on audit_log for each row when (new.action = 'sign_in.password') execute function refuse_sign_in_audit()`);
  try {
    const { tokens } = await signIn(rp, { ...owner, scope: 'openid' });
    t.is(tokens.claims()!.sub, id);
    t.deepEqual(await records({ action: 'sign_in.password', actor_id: id }, 0), [], 'the record was indeed refused');
  } finally {
    await db.raw('drop trigger refuse_sign_in_audit on audit_log');
    await db.raw('drop function refuse_sign_in_audit()');
  }
});
