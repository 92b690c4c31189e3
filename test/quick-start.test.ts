// The quick start (docs/quick-start.md, issue 12 §2) as a newcomer follows it, in
// headless Chromium: `npm start -- --demo` exactly as the README says (a child
// process, its own DATA_DIR and free ports; in server mode its own PostgreSQL
// schema and Redis prefix), then the sample app it prints: sign in as the demo
// account with the code it prints, see the ID token's claims, call the orders API
// with the access token, refresh, call it again, sign out (RP-initiated logout).
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePorts, serverMode, testEnvironment, type TestEnvironment } from './helpers/environment.ts';
import { childEnv, ROOT } from './helpers/process.ts';
import { launchChromium } from './helpers/chromium.ts';

interface Demo {
  child: ChildProcess;
  output(): string;
  /** How much stdout has been read so far: an offset for waitFor. */
  printed(): number;
  /** Resolves with the first match of `pattern` in stdout at or after `from` (an offset), waiting for it. */
  waitFor(pattern: RegExp, from?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

/** `npm start -- --demo` as the README has it, in its own process group (npm → sh → node), so the test can stop all of it. */
function startDemo(env: Record<string, string>): Demo {
  const child = spawn('npm', ['start', '--', '--demo'], { cwd: ROOT, env: childEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiting = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    stdout += d;
    waiting.forEach((wake) => wake());
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => `${stdout}\n--- stderr ---\n${stderr}`,
    printed: () => stdout.length,
    exited,
    waitFor(pattern, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout.slice(from));
          if (!match) return false;
          waiting.delete(check);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no ${pattern} within 90 s; output:\n${stdout}\n--- stderr ---\n${stderr}`));
        }, 90_000);
        exited.then((code) => {
          if (!waiting.has(check)) return;
          waiting.delete(check);
          clearTimeout(timer);
          reject(new Error(`the demo exited (${code}) before ${pattern}; output:\n${stdout}\n--- stderr ---\n${stderr}`));
        });
        if (!check()) waiting.add(check);
      });
    },
  };
}

let environment: TestEnvironment;
let demo: Demo | undefined;
let browser: Browser | undefined;
/** Chromium being launched: closed in after.always even when the test failed before it was awaited (else the worker never exits). */
let launching: Promise<Browser> | undefined;

test.before(async () => {
  // Three ports held open together, so the three differ (one probe after another may
  // be given the same port twice: seen in CI as PORT = ENOT_DEMO_WEB_PORT).
  const [port, webPort, apiPort] = await freePorts(3);
  environment = await testEnvironment({
    PORT: String(port),
    ISSUER: `http://127.0.0.1:${port}`,
    ENOT_DEMO_WEB_PORT: String(webPort),
    ENOT_DEMO_API_PORT: String(apiPort),
    LOG_LEVEL: 'warn',
    // Server mode: the test's own schema and prefix are a database of its own for trying things.
    ...(serverMode ? { ENOT_DEMO_ALLOW_DATABASE_URL: 'true' } : {}),
  });
});

test.after.always(async () => {
  await (browser ?? (await launching?.catch(() => undefined)))?.close();
  if (demo?.child.pid && demo.child.exitCode === null) {
    process.kill(-demo.child.pid, 'SIGTERM');
    const stopped = await Promise.race([demo.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
    if (!stopped) process.kill(-demo.child.pid, 'SIGKILL');
  }
  await environment?.cleanup();
});

/** Runs `action` and waits until the page has loaded a URL that `where` accepts. */
async function go(page: Page, action: () => Promise<unknown>, where: (url: URL) => boolean): Promise<void> {
  await Promise.all([page.waitForURL(where, { waitUntil: 'load' }), action()]);
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

test('quick start: npm start -- --demo, then the sample app signs in, shows the claims, calls the API, refreshes and signs out', async (t) => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  demo = startDemo(environment.env);
  const [, sampleUrl] = await demo.waitFor(/Open the sample app: +(\S+)/);
  const [, clientId] = await demo.waitFor(/Its client id: +(\S+)/);
  t.is(clientId, 'enot-demo-web-app');
  const issuer = environment.env.ISSUER!;
  t.is(sampleUrl, `http://127.0.0.1:${environment.env.ENOT_DEMO_WEB_PORT}/`, 'on the issuer host, at the configured port');
  browser = await launching;
  const context = await browser.newContext({ locale: 'en-GB' });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();

  // The sample app, signed out.
  await page.goto(sampleUrl!);
  t.is(await text(page, 'h1'), 'Enot ID sample app');
  await go(page, () => page.getByRole('link', { name: 'Sign in' }).click(), (url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));

  // Enot ID's sign-in page: the demo account, by a one-time code (the form's first button).
  const printedBefore = demo.printed();
  await page.locator('input[name=identifier]').fill('demo@example.com');
  await go(page, () => page.locator('input[name=identifier]').press('Enter'), (url) => /\/flows\/[^/]+$/.test(url.pathname));
  const [, code] = await demo.waitFor(/demo: email to demo@example\.com: .*?\b(\d{6})\b/, printedBefore);
  // The README says the code is also in DATA_DIR/outbox/.
  const outbox = path.join(environment.env.DATA_DIR!, 'outbox');
  const messages = await Promise.all((await readdir(outbox)).map((file) => readFile(path.join(outbox, file), 'utf8')));
  t.true(messages.some((m) => m.includes(code!) && m.includes('demo@example.com')), 'the printed code is the one in the outbox');
  await page.locator('input[name=code]').fill(code!);
  await go(page, () => page.locator('input[name=code]').press('Enter'), (url) => url.origin !== issuer || /^\/interaction\/[^/]+$/.test(url.pathname));

  // prompt=consent (offline_access, OIDC Core §11): the consent page, then back at the app.
  if (new URL(page.url()).origin === issuer) {
    await go(page, () => page.locator('form[action$="/confirm"] button[type=submit]').click(), (url) => url.href.startsWith(sampleUrl!));
  }
  t.regex(await text(page, '#notice'), /^Signed in\.$/);
  t.is(await text(page, '#signed-in-as'), 'Signed in as demo@example.com.');
  const claims = Object.fromEntries(
    await page.locator('#claims tr').evaluateAll((rows) => rows.map((row) => [row.querySelector('th')!.textContent, row.querySelector('td')!.textContent])),
  ) as Record<string, string>;
  t.is(claims.iss, issuer);
  t.is(claims.aud, 'enot-demo-web-app');
  t.is(claims.email, 'demo@example.com');
  t.is(claims.email_verified, 'true');
  t.true(JSON.parse(claims.roles ?? '[]').includes('orders-clerk'), claims.roles);
  t.regex(claims.sub ?? '', /^[0-9a-f-]{36}$/);
  t.regex(await text(page, '#scope'), /\borders:read\b.*\borders:write\b|\borders:write\b.*\borders:read\b/);
  t.is(await text(page, '#refresh'), 'yes');

  // The orders API with the access token: POST (introspection, needs orders:write from orders-clerk) and GET (offline JWT, orders:read).
  await go(page, () => page.getByRole('button', { name: 'Call the orders API' }).click(), (url) => url.href === sampleUrl);
  let calls = await page.locator('#api li').allInnerTexts();
  t.regex(calls[0] ?? '', /^POST \/orders → 201\n/, calls.join('\n'));
  t.true((calls[0] ?? '').includes(`"placedBy":"${claims.sub}"`), calls[0]);
  t.regex(calls[1] ?? '', /^GET \/orders → 200\n.*"item":"tea"/s, calls.join('\n'));

  // Refresh: a new access token (rotated refresh token), and it works at the API.
  const before = await text(page, '#fingerprint');
  await go(page, () => page.getByRole('button', { name: 'Refresh tokens' }).click(), (url) => url.href === sampleUrl);
  t.is(await text(page, '#notice'), 'Tokens refreshed.');
  t.not(await text(page, '#fingerprint'), before, 'a new access token');
  t.regex(await text(page, '#refreshed-at'), /^\d{4}-\d\d-\d\dT/);
  t.regex(await text(page, '#scope'), /\borders:write\b/);
  await go(page, () => page.getByRole('button', { name: 'Call the orders API' }).click(), (url) => url.href === sampleUrl);
  calls = await page.locator('#api li').allInnerTexts();
  t.regex(calls[0] ?? '', /^POST \/orders → 201\n/, calls.join('\n'));
  t.regex(calls[1] ?? '', /^GET \/orders → 200\n.*"id":2/s, 'both orders are listed');

  // Sign out: Enot ID asks, ends its session, and sends the browser back to the app.
  await go(page, () => page.getByRole('button', { name: 'Sign out' }).click(), (url) => url.origin === issuer && url.pathname.startsWith('/session/end'));
  await go(page, () => page.locator('button[name=logout][value=yes]').click(), (url) => url.href === sampleUrl);
  t.is(await page.getByRole('link', { name: 'Sign in' }).count(), 1, 'signed out of the app');
  t.is(await page.locator('#claims').count(), 0);
  // Enot ID's session ended too: signing in again asks who it is.
  await go(page, () => page.getByRole('link', { name: 'Sign in' }).click(), (url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));
  t.is(await page.locator('input[name=identifier]').count(), 1, 'the sign-in page, not straight back to the app');
  await context.close();
});
