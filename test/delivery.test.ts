// Mail and SMS leave through real transports: an SMTP server and an HTTP webhook
// in this process, or the dev outbox on disk. Messages read well in English and
// Russian, and an SMS always fits one segment and ends with `@host #code`.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../server/config/index.ts';
import { DeliveryFailed } from '../server/errors/index.ts';
import { createDelivery } from '../server/delivery/index.ts';
import { createOutbox } from '../server/delivery/outbox.ts';
import { createSmtpDelivery } from '../server/delivery/smtp.ts';
import { createSmsDelivery } from '../server/delivery/sms.ts';
import { createWebhookSmsTransport, SIGNATURE_HEADER } from '../server/delivery/sms-webhook.ts';
import type { OutgoingMessage } from '../server/delivery/types.ts';
import { verificationCodeMessage, type CodePurpose } from '../views/messages/verification-code.ts';
import { smsBudget } from '../views/messages/sms-segments.ts';
import { LOCALES } from '../server/i18n/locale.ts';
import { startSmtpServer } from './helpers/smtp.ts';
import { startSmsReceiver, verifySignature } from './helpers/sms-receiver.ts';
import { freePort } from './helpers/environment.ts';

const PURPOSES: CodePurpose[] = ['register', 'sign-in', 'confirm', 'password-reset', 'account-deletion'];
const SECRET = 'a-webhook-secret-of-at-least-32-characters';
const HOST_30 = 'auth-login.company-example.org';

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

async function tempDataDir(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'enot-delivery-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The outbox's messages in file-name order; none when the folder was never made. */
async function readOutbox(dataDir: string): Promise<Array<Record<string, unknown>>> {
  const directory = path.join(dataDir, 'outbox');
  const files = (await readdir(directory).catch(() => [] as string[])).sort();
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(directory, f), 'utf8')) as Record<string, unknown>));
}

function code(message: { channel: 'email' | 'sms'; to: string }, overrides: Partial<Parameters<typeof verificationCodeMessage>[0]> = {}): OutgoingMessage {
  return verificationCodeMessage({ ...message, code: '482913', purpose: 'sign-in', locale: 'en', host: 'id.example.com', minutes: 10, ...overrides });
}

test('mail reaches a real SMTP server with From, subject, text and HTML bodies', async (t) => {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.close());
  const delivery = createSmtpDelivery({ url: smtp.url, from: 'Enot ID <no-reply@id.example.com>' }, capturingLogger().logger);
  t.teardown(() => delivery.close());

  await delivery.send(code({ channel: 'email', to: 'ada@example.com' }));
  const mail = await smtp.nextMessage();

  t.deepEqual(mail.envelopeTo, ['ada@example.com']);
  t.is(mail.envelopeFrom, 'no-reply@id.example.com');
  t.regex(mail.to, /ada@example\.com/);
  t.is(mail.from, 'Enot ID <no-reply@id.example.com>');
  t.is(mail.subject, 'Your Enot ID sign-in code');
  t.true(mail.text!.split('\n').some((line) => line.trim() === '482913'), 'the code stands on its own line');
  t.regex(mail.text!, /expires in 10 minutes/);
  t.regex(mail.text!, /only on id\.example\.com/);
  t.regex(mail.html!, /font-weight:700[^>]*>482913<\/p>/, 'the code is bold in HTML');
  t.regex(mail.html!, /<html lang="en">/);
});

test('mail in Russian for locale ru', async (t) => {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.close());
  const delivery = createSmtpDelivery({ url: smtp.url, from: 'Enot ID <no-reply@id.example.com>' }, capturingLogger().logger);
  t.teardown(() => delivery.close());

  await delivery.send(code({ channel: 'email', to: 'ivan@example.com' }, { locale: 'ru', purpose: 'password-reset', minutes: 5 }));
  const mail = await smtp.nextMessage();

  t.is(mail.subject, 'Код для сброса пароля Enot ID');
  t.regex(mail.text!, /Введите этот код, чтобы задать новый пароль Enot ID:/);
  t.regex(mail.text!, /Код действует 5 минут\./);
  t.true(mail.text!.split('\n').some((line) => line.trim() === '482913'));
  t.regex(mail.html!, /<html lang="ru">/);
  t.regex(mail.html!, /Вводите его только на id\.example\.com/);
});

test('Russian minutes take the right plural form', (t) => {
  const minutes = (m: number) => code({ channel: 'email', to: 'x@example.com' }, { locale: 'ru', minutes: m }).text;
  t.regex(minutes(1), /действует 1 минуту\./);
  t.regex(minutes(3), /действует 3 минуты\./);
  t.regex(minutes(15), /действует 15 минут\./);
  t.regex(minutes(21), /действует 21 минуту\./);
});

test('every purpose has its own subject in both locales', (t) => {
  const subjects = LOCALES.flatMap((locale) =>
    PURPOSES.map((purpose) => code({ channel: 'email', to: 'x@example.com' }, { locale, purpose }).subject),
  );
  t.is(new Set(subjects).size, PURPOSES.length * LOCALES.length);
  t.true(subjects.every((s) => typeof s === 'string' && s.includes('Enot ID')));
});

test('HTML bodies escape what they interpolate', (t) => {
  const message = code({ channel: 'email', to: 'x@example.com' }, { code: '<b>1</b>' });
  t.false(message.html!.includes('<b>1</b>'));
  t.true(message.html!.includes('&lt;b&gt;1&lt;/b&gt;'));
});

test('SMTP down: send rejects with DeliveryFailed and the log holds neither code nor recipient', async (t) => {
  const closedPort = await freePort();
  const log = capturingLogger();
  const delivery = createSmtpDelivery({ url: `smtp://127.0.0.1:${closedPort}`, from: 'no-reply@id.example.com', timeoutMs: 2000 }, log.logger);
  t.teardown(() => delivery.close());

  await t.throwsAsync(delivery.send(code({ channel: 'email', to: 'ada@example.com' })), { instanceOf: DeliveryFailed });
  const warning = log.lines.find((l) => l.level === 40);
  t.truthy(warning, 'the failure is logged at warn');
  t.regex(String(warning!.reason), /ECONNREFUSED|connect/i);
  t.false(log.text().includes('482913'));
  t.false(log.text().includes('ada@example.com'));
});

test('SMS webhook: JSON {to, text} with a signature that verifies with the secret', async (t) => {
  const receiver = await startSmsReceiver();
  t.teardown(() => receiver.close());
  const now = 1_760_000_000;
  const delivery = createSmsDelivery(createWebhookSmsTransport({ url: receiver.url, secret: SECRET, now: () => now }), capturingLogger().logger);
  const message = code({ channel: 'sms', to: '+15555550100' });

  await delivery.send(message);
  const request = await receiver.nextRequest();

  t.is(request.method, 'POST');
  t.is(request.headers['content-type'], 'application/json');
  t.deepEqual(JSON.parse(request.body), { to: '+15555550100', text: message.text });
  const signature = request.headers[SIGNATURE_HEADER.toLowerCase()] as string;
  t.regex(signature, new RegExp(`^t=${now},v1=[0-9a-f]{64}$`));
  t.true(verifySignature(signature, request.body, SECRET, { now }));
  t.false(verifySignature(signature, request.body, SECRET.replace('a', 'b'), { now }), 'another secret fails');
  t.false(verifySignature(signature, request.body.replace('+1555', '+1666'), SECRET, { now }), 'another body fails');
  t.false(verifySignature(signature, request.body, SECRET, { now: now + 3600 }), 'an hour later it is a replay');
});

test('SMS webhook without a secret sends no signature header', async (t) => {
  const receiver = await startSmsReceiver();
  t.teardown(() => receiver.close());
  const delivery = createSmsDelivery(createWebhookSmsTransport({ url: receiver.url }), capturingLogger().logger);

  await delivery.send(code({ channel: 'sms', to: '+15555550100' }));
  const request = await receiver.nextRequest();

  t.is(request.json?.to, '+15555550100');
  t.is(request.headers[SIGNATURE_HEADER.toLowerCase()], undefined);
});

test('SMS webhook answering 500: DeliveryFailed, logged without the text', async (t) => {
  const receiver = await startSmsReceiver();
  t.teardown(() => receiver.close());
  receiver.behave(500);
  const log = capturingLogger();
  const delivery = createSmsDelivery(createWebhookSmsTransport({ url: receiver.url, secret: SECRET }), log.logger);

  await t.throwsAsync(delivery.send(code({ channel: 'sms', to: '+15555550100' })), { instanceOf: DeliveryFailed });
  t.is(receiver.requests.length, 1);
  t.regex(log.text(), /webhook answered 500/);
  t.false(log.text().includes('482913'));
  t.false(log.text().includes('+15555550100'));
});

test('SMS webhook that never answers: DeliveryFailed after the timeout', async (t) => {
  const receiver = await startSmsReceiver();
  t.teardown(() => receiver.close());
  const log = capturingLogger();
  const delivery = createSmsDelivery(createWebhookSmsTransport({ url: receiver.url, timeoutMs: 1000 }), log.logger);
  // The timeout's clock starts before fetch() runs; the first fetch of a process loads
  // undici and connects, which on a loaded machine took longer than the timeout, so the
  // request was aborted before it reached the receiver. One answered request first,
  // through a transport with a generous timeout (on a loaded machine the first fetch
  // alone outlasted 1 s): fetch is loaded and a kept-alive connection to the receiver
  // is open in the global dispatcher that both transports share.
  await createSmsDelivery(createWebhookSmsTransport({ url: receiver.url, timeoutMs: 30_000 }), log.logger).send(code({ channel: 'sms', to: '+15555550100' }));
  receiver.behave('hang');

  await t.throwsAsync(delivery.send(code({ channel: 'sms', to: '+15555550100' })), { instanceOf: DeliveryFailed });
  t.is(receiver.requests.length, 2, 'the hung request did reach the receiver');
  t.regex(log.text(), /timed out/);
});

test('SMS webhook unreachable: DeliveryFailed', async (t) => {
  const closedPort = await freePort();
  const delivery = createSmsDelivery(createWebhookSmsTransport({ url: `http://127.0.0.1:${closedPort}/sms` }), capturingLogger().logger);
  await t.throwsAsync(delivery.send(code({ channel: 'sms', to: '+15555550100' })), { instanceOf: DeliveryFailed });
});

test('dev outbox: one JSON file per message, sortable by time, no temp files left', async (t) => {
  const dataDir = await tempDataDir(t);
  const log = capturingLogger();
  const outbox = createOutbox(dataDir, log.logger);
  const first = code({ channel: 'email', to: 'ada@example.com' });
  const second = code({ channel: 'sms', to: '+15555550100' }, { code: '111222' });

  await outbox.send(first);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await outbox.send(second);

  const files = await readdir(path.join(dataDir, 'outbox'));
  t.is(files.length, 2, `only the two messages, no temp files: ${files.join(', ')}`);
  t.true(files.every((f) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-[0-9a-f]{8}\.json$/.test(f)));
  const [a, b] = (await readOutbox(dataDir)) as Array<Record<string, string>>;
  t.deepEqual(Object.keys(a!).sort(), ['channel', 'created_at', 'html', 'subject', 'text', 'to']);
  t.like(a, { to: 'ada@example.com', channel: 'email', subject: first.subject, text: first.text, html: first.html });
  t.like(b, { to: '+15555550100', channel: 'sms', subject: null, text: second.text, html: null });
  t.true(Date.parse(a!.created_at!) < Date.parse(b!.created_at!), 'name order is send order');
  t.true(log.lines.some((l) => l.level === 30 && String(l.text).includes('111222')), 'the dev outbox logs the message at info');
});

test('dev outbox that cannot write: DeliveryFailed', async (t) => {
  const dataDir = await tempDataDir(t);
  // A file where the outbox folder should be makes mkdir fail.
  await writeFile(path.join(dataDir, 'outbox'), '');
  const outbox = createOutbox(dataDir, capturingLogger().logger);
  await t.throwsAsync(outbox.send(code({ channel: 'email', to: 'ada@example.com' })), { instanceOf: DeliveryFailed });
});

test('every SMS fits one segment and ends with @host #code, for every purpose and locale', (t) => {
  for (const locale of LOCALES) {
    for (const purpose of PURPOSES) {
      for (const host of [HOST_30, 'id.example.com']) {
        const { text } = code({ channel: 'sms', to: '+15555550100' }, { locale, purpose, host, code: '482913' });
        const budget = smsBudget(text);
        const label = `${locale} ${purpose} ${host}: ${JSON.stringify(text)}`;
        t.is(budget.segments, 1, label);
        t.is(budget.encoding, locale === 'en' ? 'gsm7' : 'ucs2', label);
        t.true(budget.units <= (locale === 'en' ? 160 : 70), label);
        const lines = text.split('\n');
        t.is(lines.at(-1), `@${host} #482913`, label);
        t.true(lines[0]!.includes('Enot ID') && lines[0]!.includes('482913'), `the wording survives: ${label}`);
      }
    }
  }
});

test('the origin-bound line takes the bare host name', (t) => {
  const { text } = code({ channel: 'sms', to: '+15555550100' }, { host: 'https://ID.Example.com:8443/path' });
  t.is(text.split('\n').at(-1), '@id.example.com #482913');
});

test('an absurdly long host still leaves one segment with the origin line last', (t) => {
  const host = `${'a'.repeat(60)}.example.com`;
  const { text } = code({ channel: 'sms', to: '+15555550100' }, { host, locale: 'ru' });
  t.is(smsBudget(text).segments, 1);
  t.is(text.split('\n').at(-1), `@${host} #482913`);
});

test('smsBudget counts GSM-7 septets and UCS-2 units', (t) => {
  t.deepEqual(smsBudget('a'.repeat(160)), { encoding: 'gsm7', units: 160, segments: 1 });
  t.deepEqual(smsBudget('a'.repeat(161)), { encoding: 'gsm7', units: 161, segments: 2 });
  t.deepEqual(smsBudget('€'.repeat(80)), { encoding: 'gsm7', units: 160, segments: 1 }, 'extension characters take two septets');
  t.deepEqual(smsBudget('@£$¥èé\nÅåΔ_ ÄÖÑÜ§¿äöñüà'), { encoding: 'gsm7', units: 23, segments: 1 });
  t.deepEqual(smsBudget('ж'.repeat(70)), { encoding: 'ucs2', units: 70, segments: 1 });
  t.deepEqual(smsBudget('ж'.repeat(71)), { encoding: 'ucs2', units: 71, segments: 2 });
  t.deepEqual(smsBudget(`${'a'.repeat(100)}’`), { encoding: 'ucs2', units: 101, segments: 2 }, 'one curly quote turns the text into UCS-2');
  t.is(smsBudget('a'.repeat(307)).segments, 3);
});

test('createDelivery: SMTP_URL alone sends mail by SMTP and SMS to the outbox', async (t) => {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.close());
  const dataDir = await tempDataDir(t);
  const delivery = createDelivery(loadConfig({ DATA_DIR: dataDir, SMTP_URL: smtp.url, MAIL_FROM: 'Enot ID <no-reply@id.example.com>' }), capturingLogger().logger);
  t.teardown(() => delivery.close());

  await delivery.send(code({ channel: 'email', to: 'ada@example.com' }));
  await delivery.send(code({ channel: 'sms', to: '+15555550100' }));

  const mail = await smtp.nextMessage();
  t.is(mail.from, 'Enot ID <no-reply@id.example.com>');
  t.is(smtp.messages.length, 1, 'the SMS did not go by mail');
  t.deepEqual((await readOutbox(dataDir)).map((m) => m.channel), ['sms']);
});

test('createDelivery: SMS_WEBHOOK_URL alone sends SMS to the webhook and mail to the outbox', async (t) => {
  const receiver = await startSmsReceiver();
  t.teardown(() => receiver.close());
  const dataDir = await tempDataDir(t);
  const delivery = createDelivery(loadConfig({ DATA_DIR: dataDir, SMS_WEBHOOK_URL: receiver.url, SMS_WEBHOOK_SECRET: SECRET }), capturingLogger().logger);
  t.teardown(() => delivery.close());

  await delivery.send(code({ channel: 'sms', to: '+15555550100' }));
  await delivery.send(code({ channel: 'email', to: 'ada@example.com' }));

  const request = await receiver.nextRequest();
  t.true(verifySignature(request.headers[SIGNATURE_HEADER.toLowerCase()] as string, request.body, SECRET));
  t.is(receiver.requests.length, 1, 'the mail did not go to the webhook');
  t.deepEqual((await readOutbox(dataDir)).map((m) => m.channel), ['email']);
});

test('createDelivery: both configured, nothing reaches the outbox', async (t) => {
  const smtp = await startSmtpServer();
  const receiver = await startSmsReceiver();
  t.teardown(() => Promise.all([smtp.close(), receiver.close()]));
  const dataDir = await tempDataDir(t);
  const delivery = createDelivery(loadConfig({ DATA_DIR: dataDir, SMTP_URL: smtp.url, SMS_WEBHOOK_URL: receiver.url }), capturingLogger().logger);
  t.teardown(() => delivery.close());

  await delivery.send(code({ channel: 'email', to: 'ada@example.com' }));
  await delivery.send(code({ channel: 'sms', to: '+15555550100' }));

  t.deepEqual((await smtp.nextMessage()).envelopeTo, ['ada@example.com']);
  t.is((await receiver.nextRequest()).json?.to, '+15555550100');
  t.deepEqual(await readOutbox(dataDir), []);
});

test('createDelivery: neither configured, both channels go to the outbox', async (t) => {
  const dataDir = await tempDataDir(t);
  const delivery = createDelivery(loadConfig({ DATA_DIR: dataDir }), capturingLogger().logger);
  t.teardown(() => delivery.close());

  await delivery.send(code({ channel: 'email', to: 'ada@example.com' }));
  await delivery.send(code({ channel: 'sms', to: '+15555550100' }));

  t.deepEqual((await readOutbox(dataDir)).map((m) => m.channel).sort(), ['email', 'sms']);
});
