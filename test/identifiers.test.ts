import test from 'ava';
import { identifierKey, maskIdentifier, normalizeEmail, normalizePhone, parseIdentifier } from '../server/accounts/identifiers.ts';
import { InvalidRequest } from '../server/errors/index.ts';

test('emails: trimmed, domain lower-cased, local part kept', (t) => {
  t.is(normalizeEmail('  Ada.Lovelace@Example.COM '), 'Ada.Lovelace@example.com');
  for (const bad of ['', 'ada', 'ada@', '@example.com', 'a b@example.com', 'ada@example', `${'a'.repeat(250)}@example.com`, 'ada@exa_mple.com']) {
    t.throws(() => normalizeEmail(bad), { instanceOf: InvalidRequest }, bad);
  }
});

test('phones: E.164, with a default region for national numbers', (t) => {
  t.is(normalizePhone('+49 151 23456789', 'US'), '+4915123456789');
  t.is(normalizePhone('0151 23456789', 'DE'), '+4915123456789');
  t.is(normalizePhone('(202) 555-0125', 'US'), '+12025550125');
  t.is(normalizePhone('+7 912 345-67-89', 'DE'), '+79123456789');
  for (const bad of ['12', '+1', 'call me', '+49 151 2345678901234567', '++4915123456789', '<script>']) {
    t.throws(() => normalizePhone(bad, 'DE'), { instanceOf: InvalidRequest }, bad);
  }
  const error = t.throws(() => normalizePhone('12345', 'DE'));
  t.regex(error!.message, /country code/);
});

test('phones with + and a country code need only a possible length: the fictional and test ranges are accepted', (t) => {
  // isValid refuses these (unassigned ranges kept for fiction and tests); isPossible allows them.
  t.is(normalizePhone('+1 555 555 0100', 'US'), '+15555550100');
  t.is(normalizePhone('+1 (555) 555-0199', 'DE'), '+15555550199');
  t.is(normalizePhone('+44 7700 900123', 'DE'), '+447700900123');
  // Without +, the number must be one the default region really has: it could be a mistyped foreign one.
  const national = t.throws(() => normalizePhone('(555) 555-0100', 'US'));
  t.is(national!.message, 'this is not a phone number in US (+1); for a number from another country, start with + and its country code');
});

test('a refused phone number says what is wrong, never asking for a country code that is there', (t) => {
  const problem = (typed: string, region = 'US') => t.throws(() => normalizePhone(typed, region), { instanceOf: InvalidRequest }, typed)!.message;
  t.is(problem('+1 555 0100'), 'this number is too short for country code +1');
  t.is(problem('+1'), 'this number is too short for country code +1');
  t.is(problem('+49 151 2345678901234567'), 'this number is too long for country code +49');
  t.is(problem('+999 1234567'), 'no country has the code this number starts with; check the digits after +');
  t.is(problem('12', 'DE'), 'this number is too short for a phone number in DE (+49); for a number from another country, start with + and its country code');
  for (const typed of ['+1 555 0100', '+1', '+49 151 2345678901234567', '+999 1234567']) t.notRegex(problem(typed), /country code \(for example|with the country code/, typed);
});

test('every phone number in the README and docs/ is one the sign-in form accepts', async (t) => {
  const { readFile, readdir } = await import('node:fs/promises');
  const root = new URL('../', import.meta.url);
  const files = ['README.md', ...(await readdir(new URL('docs/', root))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const numbers: string[] = [];
  for (const file of files) {
    const text = await readFile(new URL(file, root), 'utf8');
    for (const match of text.matchAll(/\+\d{1,3}(?:[ ()-]?\d){6,14}/g)) numbers.push(`${file}: ${match[0]}`);
  }
  t.true(numbers.length > 0, 'the docs show at least one phone number');
  for (const entry of numbers) t.notThrows(() => normalizePhone(entry.slice(entry.indexOf(': ') + 2), 'US'), entry);
});

test('one field takes either', (t) => {
  t.deepEqual(parseIdentifier('Ada@Example.com', 'DE'), { kind: 'email', value: 'Ada@example.com' });
  t.deepEqual(parseIdentifier('+4915123456789', 'DE'), { kind: 'phone', value: '+4915123456789' });
  t.throws(() => parseIdentifier('   ', 'DE'), { message: /email address or phone number/ });
  t.is(maskIdentifier({ kind: 'email', value: 'ada@example.com' }), 'a…@example.com');
  t.is(maskIdentifier({ kind: 'phone', value: '+4915123456789' }), '+49…789');
});

test('new passwords: NIST SP 800-63B length and common-password checks', async (t) => {
  const { newPasswordProblem } = await import('../server/accounts/password-policy.ts');
  t.regex(await newPasswordProblem('short') ?? '', /at least 8/);
  t.regex(await newPasswordProblem('password') ?? '', /most common/);
  t.regex(await newPasswordProblem('Qwertyuiop') ?? '', /most common/, 'case-insensitive');
  t.regex(await newPasswordProblem('a'.repeat(257)) ?? '', /at most 256/);
  t.is(await newPasswordProblem('correct horse battery staple'), undefined);
  t.is(await newPasswordProblem('🦝🐻🦊🐺🦡🐨🐼🐯'), undefined, 'eight emoji are eight characters');
  t.regex(await newPasswordProblem('🦝🦝🦝🦝🦝🦝🦝') ?? '', /at least 8/, 'seven emoji are seven characters');
  t.is(await newPasswordProblem('Tr0ub4dor&3x'), undefined, 'no composition rules');
});

test('identifierKey: one key per address however it is typed, as account lookup compares them', (t) => {
  const key = (typed: string) => identifierKey(parseIdentifier(typed, 'DE'));
  t.is(key('Ada.Lovelace@Example.COM'), 'email:ada.lovelace@example.com');
  t.is(key(' ADA.LOVELACE@example.com '), key('ada.lovelace@example.com'));
  t.is(key('0151 23456789'), key('+49 151 23456789'));
  t.not(key('ada@example.com'), key('ada@example.org'));
});
