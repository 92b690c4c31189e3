// Consent (issue 12 §4): remembered per person and client across browsers (each
// browser here is its own cookie jar), asked again for a new scope, on
// prompt=consent (OIDC Core §3.1.2.1), after the person declined and after an
// operator revoked the grant; forgotten with the account. Scopes in words, in
// English and Russian. A real server, openid-client as the relying party.
import test, { type ExecutionContext } from 'ava';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { registerClient, oidc, TEST_IAT, REDIRECT_URI } from './helpers/oidc.ts';
import { createBrowser, readForm, type Page } from './helpers/browser.ts';
import { adminApi, clientToken, machineClient } from './helpers/admin.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { deleteAccount } from '../server/accounts/queries.ts';
import { updateResource } from '../server/rbac/resources.ts';
import { scopeWords } from '../views/scope-words.ts';

const ORDERS = 'https://orders.example.test';
const PASSWORD = 'correct horse battery staple';
let server: TestServer;
let rp: oidc.Configuration;

test.before(async () => {
  server = await startTestServer({
    INITIAL_ACCESS_TOKEN: TEST_IAT,
    RESOURCE_SERVERS: JSON.stringify([{ identifier: ORDERS, scope: 'orders:read orders:write', accessTokenFormat: 'jwt' }]),
  });
  await updateResource(server.runtime.db, ORDERS, { name: 'Orders API' });
  rp = await registerClient(server.issuer, { client_name: 'Shop', scope: 'openid email phone roles offline_access orders:read orders:write' });
});

test.after.always(async () => {
  await server?.stop();
});

async function person(email: string): Promise<{ id: string; email: string }> {
  return { id: await createAccount(server.runtime.db, { email, password: PASSWORD }), email };
}

/**
 * A new browser (its own cookies) signs in with a password for `scope`; returns
 * where it lands: the consent page, or the client with a code.
 */
async function inNewBrowser(email: string, scope: string, extra: Record<string, string> = {}) {
  const browser = createBrowser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope, state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  const login = readForm(await browser.follow(url.href, REDIRECT_URI), /\/code$/);
  const page = await browser.submit(login.action.replace(/\/code$/, '/login'), { ...login.hidden, identifier: email, password: PASSWORD }, REDIRECT_URI);
  const asked = !page.url.startsWith(REDIRECT_URI);
  return {
    asked,
    page,
    /** What the consent page lists. */
    listed: asked ? listed(page) : [],
    async allow(): Promise<Page> {
      const form = readForm(page, /\/confirm$/);
      return browser.submit(form.action, form.hidden, REDIRECT_URI);
    },
    async deny(): Promise<Page> {
      const form = readForm(page, /\/abort$/);
      return browser.submit(form.action, form.hidden, REDIRECT_URI);
    },
    tokens: (at: Page) => oidc.authorizationCodeGrant(rp, new URL(at.url), { pkceCodeVerifier: verifier, expectedState: state }),
  };
}

function listed(page: Page): string[] {
  const list = /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1]!.trim());
}

async function consentedOnce(t: ExecutionContext, email: string, scope: string, extra: Record<string, string> = {}) {
  const first = await inNewBrowser(email, scope, extra);
  t.true(first.asked, `the first sign-in for ${scope} asks`);
  const back = await first.allow();
  t.true(back.url.startsWith(REDIRECT_URI), 'allowed: back at the client');
  return first.tokens(back);
}

test('consent is remembered across browsers: not asked again; a new scope asks; prompt=consent asks', async (t) => {
  const { email } = await person('across-browsers@example.com');
  await consentedOnce(t, email, 'openid email');

  const second = await inNewBrowser(email, 'openid email');
  t.false(second.asked, 'another browser, same person, client and scopes: no consent page');
  const tokens = await second.tokens(second.page);
  t.is(tokens.claims()!.email, email, 'the grant made from the remembered consent releases the email');
  t.deepEqual(tokens.scope?.split(' ').sort(), ['email', 'openid']);

  const fewer = await inNewBrowser(email, 'openid');
  t.false(fewer.asked, 'fewer scopes than consented: not asked');
  t.is((await fewer.tokens(fewer.page)).claims()!.email, undefined, 'and only what was asked for is released');

  const more = await inNewBrowser(email, 'openid email phone');
  t.true(more.asked, 'a scope never consented asks again');
  t.true(more.listed.includes(scopeWords('phone', 'en')), more.listed.join(' | '));
  t.true((await more.allow()).url.startsWith(REDIRECT_URI));
  const phoneNow = await inNewBrowser(email, 'openid phone');
  t.false(phoneNow.asked, 'the newly consented scope is remembered too');

  const forced = await inNewBrowser(email, 'openid email', { prompt: 'consent' });
  t.true(forced.asked, 'prompt=consent always shows the consent page (OIDC Core §3.1.2.1)');
  t.true(forced.listed.includes(scopeWords('email', 'en')), 'and lists what is asked for');
});

test('an API scope is remembered for its API; another scope of it asks again', async (t) => {
  const { email } = await person('api-scopes@example.com');
  const first = await consentedOnce(t, email, 'openid orders:read', { resource: ORDERS });
  t.true(first.scope?.split(' ').includes('orders:read'));
  const again = await inNewBrowser(email, 'openid orders:read', { resource: ORDERS });
  t.false(again.asked, 'same API scope in another browser: not asked');
  const tokens = await again.tokens(again.page);
  t.true(tokens.scope?.split(' ').includes('orders:read'), `granted without asking: ${tokens.scope}`);
  const another = await inNewBrowser(email, 'openid orders:read orders:write', { resource: ORDERS });
  t.true(another.asked, 'another scope of the API was never consented: asked');
  t.true(another.listed.includes('orders:write at Orders API'), another.listed.join(' | '));
});

test('declining forgets the consent: the next browser is asked again', async (t) => {
  const { email } = await person('declines@example.com');
  await consentedOnce(t, email, 'openid email');
  const declining = await inNewBrowser(email, 'openid email', { prompt: 'consent' });
  const back = new URL((await declining.deny()).url);
  t.is(back.searchParams.get('error'), 'access_denied');
  const next = await inNewBrowser(email, 'openid email');
  t.true(next.asked, 'after a decline the person is asked again');
});

test('an operator revoking the grant (admin API) forgets the consent to that client', async (t) => {
  const api = adminApi(server.issuer);
  const token = await clientToken(await machineClient(server), server.issuer);
  const { id, email } = await person('revoked-by-operator@example.com');
  await consentedOnce(t, email, 'openid email');
  const grants = (await api.call(t, 'get', `/accounts/${id}/grants`, { token })).body.items as { id: string }[];
  t.is(grants.length, 1);
  t.is((await api.call(t, 'delete', `/accounts/${id}/grants/${grants[0]!.id}`, { token })).status, 204);
  t.true((await inNewBrowser(email, 'openid email')).asked, 'the grant is gone and so is the consent: asked');

  // The same for ending every session and grant of the account.
  const other = await person('all-revoked@example.com');
  await consentedOnce(t, other.email, 'openid email');
  t.is((await api.call(t, 'post', `/accounts/${other.id}/sessions/revoke`, { token })).status, 204);
  t.true((await inNewBrowser(other.email, 'openid email')).asked, 'every grant revoked: asked');
});

test('deleting the account, or the client, deletes the remembered consent', async (t) => {
  const count = async (where: Record<string, string>) =>
    Number((await server.runtime.db('remembered_consents').where(where).count<{ count: string | number }[]>('* as count'))[0]!.count);
  const { id, email } = await person('deleted@example.com');
  await consentedOnce(t, email, 'openid email');
  t.true(await count({ account_id: id }) >= 2, 'openid and email are remembered');
  t.true(await deleteAccount(server.runtime.db, id));
  t.is(await count({ account_id: id }), 0);

  const shop = await person('client-deleted@example.com');
  await consentedOnce(t, shop.email, 'openid email');
  const clientId = rp.clientMetadata().client_id;
  const gone = await registerClient(server.issuer, { scope: 'openid' });
  const goneId = gone.clientMetadata().client_id;
  await server.runtime.db('remembered_consents').insert({ account_id: shop.id, client_id: goneId, resource: '', kind: 'scope', name: 'openid' });
  await server.runtime.adapters('Client').destroy(goneId);
  t.is(await count({ client_id: goneId }), 0, 'the deleted client\'s rows are gone');
  t.true(await count({ account_id: shop.id, client_id: clientId }) >= 2, 'other clients\' rows stay');
});

test('the consent page lists scopes in words, in English and in Russian; API scopes with their API\'s name', async (t) => {
  const { email } = await person('words@example.com');
  const scope = 'openid email phone roles offline_access orders:read';
  const english = await inNewBrowser(email, scope, { prompt: 'consent', resource: ORDERS });
  t.deepEqual(english.listed, [
    'Know who you are: your account identifier',
    'See your email address and whether it is confirmed',
    'See your phone number and whether it is confirmed',
    'See your roles, which decide what you may do',
    'Keep access while you are not using it, until you sign out or the access expires',
    'orders:read at Orders API',
  ]);
  const russian = await inNewBrowser(email, scope, { prompt: 'consent', resource: ORDERS, ui_locales: 'ru' });
  t.regex(russian.page.body, /<html lang="ru">/);
  t.deepEqual(russian.listed, [
    'Узнать, кто вы: идентификатор вашего аккаунта',
    'Видеть ваш адрес почты и подтверждён ли он',
    'Видеть ваш номер телефона и подтверждён ли он',
    'Видеть ваши роли: они определяют, что вам можно делать',
    'Сохранять доступ, пока вы не пользуетесь приложением, — до выхода или окончания срока доступа',
    'orders:read в Orders API',
  ]);
});

test('scope words: an unknown scope is its own name; an API without a name adds none; OIDC words only for OIDC scopes', (t) => {
  t.is(scopeWords('orders:write', 'en'), 'orders:write');
  t.is(scopeWords('constructor', 'ru'), 'constructor');
  t.is(scopeWords('api:read', 'ru', { name: '', own: false }), 'api:read');
  t.is(scopeWords('email', 'en', { name: 'Mail API', own: false }), 'email at Mail API', 'an API\'s own `email` scope is not the OIDC one');
  t.is(scopeWords('admin', 'en', { name: 'Orders API', own: false }), 'admin at Orders API', 'nor is another API\'s `admin` Enot ID\'s');
  t.is(scopeWords('admin', 'ru', { name: 'Enot ID admin API', own: true }), 'Управлять этим Enot ID как администратор');
});
