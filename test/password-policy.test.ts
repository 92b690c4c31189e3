// NIST SP 800-63B §5.1.1.2: new passwords are compared against common ones,
// repetitive or sequential characters, and context-specific words (the service's
// name, the person's own email and phone).
import test from 'ava';
import { newPasswordIssue, newPasswordProblem, type PasswordIssue } from '../server/accounts/password-policy.ts';
import { passwordIssueText, strings } from '../views/strings.ts';
import { startTestServer } from './helpers/server.ts';
import { registerClient, beginAuthorization, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { readForm } from './helpers/browser.ts';

const context = { issuer: 'https://login.example-bank.com', identifiers: ['ada.lovelace@example.com', '+4915123456789'] };

const refused: Array<[string, PasswordIssue]> = [
  ['aaaaaaaa', 'repetitive'],
  ['        ', 'repetitive'],
  ['12341234', 'repetitive'],
  ['abcabcabc', 'repetitive'],
  ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'repetitive'],
  ['ababababab', 'repetitive'],
  ['🦝🦝🦝🦝🦝🦝🦝🦝', 'repetitive'],
  ['12345678', 'sequential'],
  ['98765432', 'sequential'],
  ['abcdefghij', 'sequential'],
  ['1234abcd', 'sequential'],
  ['ZYXWVUTSRQ', 'sequential'],
  ['enotid2026', 'context'],
  ['Enot-ID-2025!', 'context'],
  ['enot enot 2024', 'context'],
  ['EnotID_12345', 'context'],
  ['examplebank1', 'context'],
  ['example-bank-2025', 'context'],
  ['lovelace1815', 'context'],
  ['Ada.Lovelace!!', 'context'],
  ['pw 23456789', 'context'],
  ['4915123456789', 'context'],
  ['password', 'common'],
  ['short', 'too_short'],
];

const accepted = [
  'correct horse battery staple',
  'Tr0ub4dor&3x',
  'vK8#qLz2!pW9mR4t',
  'x7Gp2QmW9rLkT4vB8nYc3HfJ6dZs',
  '🦝🐻🦊🐺🦡🐨🐼🐯',
  // A context word inside a passphrase that stands on its own.
  'my enot eats seventeen blue carrots',
  'ada says: tea before the engine',
  'two processes, one truth',
];

test('refused: repetitive, sequential, context words (each with its reason)', async (t) => {
  for (const [password, issue] of refused) t.is(await newPasswordIssue(password, context), issue, password);
});

test('accepted: passphrases and random passwords', async (t) => {
  for (const password of accepted) t.is(await newPasswordIssue(password, context), undefined, password);
});

test('the service name is refused without any context; the person’s own words only when known', async (t) => {
  t.is(await newPasswordIssue('enotid2026'), 'context');
  t.is(await newPasswordIssue('lovelace1815'), undefined);
  t.is(await newPasswordIssue('lovelace1815', { identifiers: ['ada.lovelace@example.com'] }), 'context');
});

test('every issue has its text in English and Russian, and for the CLI', async (t) => {
  for (const issue of new Set(refused.map(([, i]) => i))) {
    const english = passwordIssueText(strings('en'), issue);
    const russian = passwordIssueText(strings('ru'), issue);
    t.truthy(english, issue);
    t.truthy(russian, issue);
    t.not(english, russian, issue);
    t.regex(russian, /[а-яё]/i, issue);
  }
  t.not(passwordIssueText(strings('en'), 'repetitive'), passwordIssueText(strings('en'), 'common'));
  t.not(passwordIssueText(strings('en'), 'sequential'), passwordIssueText(strings('en'), 'context'));
  t.regex((await newPasswordProblem('enotid2026')) ?? '', /name of this service|your email|phone/);
  t.regex((await newPasswordProblem('aaaaaaaa')) ?? '', /repeat/);
  t.regex((await newPasswordProblem('12345678')) ?? '', /sequence/);
});

test('registration refuses a password built on the person’s own email, and says why', async (t) => {
  const server = await startTestServer({ INITIAL_ACCESS_TOKEN: TEST_IAT });
  t.teardown(() => server.stop());
  const started = await beginAuthorization(await registerClient(server.issuer), 'openid');
  const link = [...started.page.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&')).find((h) => h.split('?')[0]!.endsWith('/register'))!;
  const register = await started.browser.follow(new URL(link, started.page.url).href, REDIRECT_URI);
  const form = readForm(register, /\/register$/);
  for (const password of ['lovelace1815', 'Enot-ID-2025!', '12341234']) {
    const refusedPage = await started.browser.submit(form.action, { ...form.hidden, identifier: 'ada.lovelace@example.com', password }, REDIRECT_URI);
    t.is(refusedPage.status, 400, password);
    t.regex(refusedPage.body, password === '12341234' ? /repeats a character/ : /built on the name of this service, or on your email or phone/, password);
  }
});
