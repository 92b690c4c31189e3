// Every page in real headless Chromium, in English and in Russian, light and dark
// (prefers-color-scheme emulated): axe-core finds no serious or critical violation,
// nothing scrolls sideways, the page is in its language. The walk is
// test/helpers/page-tour.ts. At 320 px (the narrowest phone) nothing scrolls
// sideways or is cut off. Also: the QR block only on wide screens (hidden, and
// so out of the accessibility tree, on a phone), the resend button's countdown,
// and visible focus.
import test, { type ExecutionContext } from 'ava';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { checkAccessibility, horizontalOverflow, launchChromium, newTestContext } from './helpers/chromium.ts';
import { go, startTourWorld, tour, TOUR_STOPS, type TourWorld } from './helpers/page-tour.ts';
import { oidc, REDIRECT_URI } from './helpers/oidc.ts';
import { createAccount } from '../server/accounts/create-account.ts';
import { strings } from '../views/strings.ts';
import type { Locale } from '../server/i18n/locale.ts';

let world: TourWorld;
let browser: Browser;
let launching: Promise<Browser> | undefined;

test.before(async () => {
  launching = launchChromium();
  launching.catch(() => {}); // awaited below
  world = await startTourWorld();
  browser = await launching;
});

test.after.always(async () => {
  await (await launching?.catch(() => undefined))?.close();
  await world?.stop();
});

const CONTEXT_LOCALE: Record<Locale, string> = { en: 'en-GB', ru: 'ru-RU' };

async function open(t: ExecutionContext, locale: Locale, options: BrowserContextOptions = {}) {
  const opened = await newTestContext(browser, { locale: CONTEXT_LOCALE[locale], ...options });
  t.teardown(() => opened.context.close());
  return opened;
}

const background = (page: Page) =>
  page.locator('body').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);

async function authorize(page: Page): Promise<void> {
  const url = oidc.buildAuthorizationUrl(world.rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  await page.goto(url.href);
}

for (const locale of ['en', 'ru'] as const) {
  test.serial(`every page in ${locale}, light and dark: no serious or critical accessibility violation, no sideways scrolling`, async (t) => {
    const { page, scriptErrors } = await open(t, locale);
    const visited: string[] = [];
    await tour(world, page, locale, `tour-${locale}@example.com`, async (stop) => {
      visited.push(stop);
      t.is(await page.locator('html').getAttribute('lang'), locale, `${stop}: the page's language`);
      t.true((await page.locator('h1').innerText()).length > 0, `${stop}: a heading`);
      const light = await checkAccessibility(page, `pages-${locale}-${stop}-light`);
      t.deepEqual(light.blocking, [], `${stop} (${locale}, light)`);
      t.is(await horizontalOverflow(page), 0, `${stop}: sideways scrolling`);
      const lightBackground = await background(page);
      await page.emulateMedia({ colorScheme: 'dark' });
      t.not(await background(page), lightBackground, `${stop}: the dark scheme applies`);
      const dark = await checkAccessibility(page, `pages-${locale}-${stop}-dark`);
      t.deepEqual(dark.blocking, [], `${stop} (${locale}, dark)`);
      await page.emulateMedia({ colorScheme: 'light' });
    });
    t.deepEqual(visited, [...TOUR_STOPS], 'every page, in the tour’s order');
    t.deepEqual(scriptErrors, []);
  });
}

for (const locale of ['en', 'ru'] as const) {
  test.serial(`every page in ${locale} at 320 px, the narrowest phone: nothing scrolls sideways, nothing is cut off`, async (t) => {
    const { page, scriptErrors } = await open(t, locale, { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
    const visited: string[] = [];
    await tour(world, page, locale, `narrow-${locale}@example.com`, async (stop) => {
      visited.push(stop);
      t.is(await horizontalOverflow(page), 0, `${stop}: sideways scrolling at 320 px`);
      // Wider than the screen yet clipped (overflow hidden) would not scroll, but would not show either.
      const cut = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as unknown as { innerWidth: number; document: { querySelectorAll(s: string): Iterable<{ getBoundingClientRect(): { right: number; left: number; width: number }; tagName: string; id: string; className: string }> } };
        return [...document.querySelectorAll('body *')]
          .filter((el) => { const box = el.getBoundingClientRect(); return box.width > 0 && (box.right > innerWidth + 0.5 || box.left < -0.5); })
          .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}`);
      });
      t.deepEqual(cut, [], `${stop}: elements beyond the screen's edge at 320 px`);
    });
    t.deepEqual(visited, [...TOUR_STOPS]);
    t.deepEqual(scriptErrors, []);
  });
}

test.serial('the QR block: shown at 1280 px, hidden at 390 px (also to screen readers), where it does not poll', async (t) => {
  const t_ = strings('en');
  const wide = await open(t, 'en', { viewport: { width: 1280, height: 800 } });
  await authorize(wide.page);
  t.true(await wide.page.locator('#qr .qr-image').isVisible());
  t.is(await wide.page.getByRole('heading', { name: t_.qrTitle }).count(), 1);

  const phone = await open(t, 'en', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const polls: string[] = [];
  phone.page.on('request', (request) => {
    if (/\/qr\//.test(new URL(request.url()).pathname)) polls.push(request.url());
  });
  await authorize(phone.page);
  t.is(await phone.page.locator('h1').innerText(), 'Sign in to Notes');
  t.false(await phone.page.locator('#qr').isVisible());
  t.is(await phone.page.getByRole('heading', { name: t_.qrTitle }).count(), 0, 'not in the accessibility tree');
  t.is(await phone.page.getByRole('link', { name: t_.qrContinue }).count(), 0);
  await phone.page.waitForTimeout(4500);
  t.deepEqual(polls, [], 'the hidden block does not poll');
  t.deepEqual([...wide.scriptErrors, ...phone.scriptErrors], []);
});

test.serial('the resend button: disabled with a live countdown, enabled at zero; an early resend is told beside it, not under the code', async (t) => {
  const t_ = strings('ru');
  await createAccount(world.server.runtime.db, { email: 'countdown@example.com' });
  const { page, scriptErrors } = await open(t, 'ru');
  await page.clock.install();
  await authorize(page);
  await page.getByLabel(t_.emailLabel).fill('countdown@example.com');
  await go(page, () => page.getByRole('button', { name: t_.continueWithCode }).click(), (url) => /\/flows\/[^/]+$/.test(url.pathname));
  await world.smtp.nextMessageTo('countdown@example.com', 10_000);
  const resend = page.getByRole('button', { name: t_.resend });
  t.true(await resend.isDisabled());
  t.is(await resend.getAttribute('aria-describedby'), 'resend-wait');
  const first = Number(await page.locator('#resend-seconds').innerText());
  t.true(first > 50 && first <= 60, `${first} s`);
  t.regex(await page.locator('#resend-wait').innerText(), /^Новый код можно запросить через \d+ с\.$/);
  await page.clock.runFor(3000);
  t.is(Number(await page.locator('#resend-seconds').innerText()), first - 3, 'it counts down');
  await page.clock.runFor(first * 1000);
  t.true(await resend.isEnabled(), 'enabled at zero');
  t.false(await page.locator('#resend-wait').isVisible());

  // The server's own clock has not moved: it refuses, and says the wait next to the button.
  await go(page, () => resend.click(), (url) => /\/resend$/.test(url.pathname));
  t.true(await page.getByRole('button', { name: t_.resend }).isDisabled());
  t.regex(await page.locator('#resend-wait').innerText(), /^Новый код можно запросить через \d+ с\.$/);
  t.is(await page.getByLabel(t_.codeLabel, { exact: true }).getAttribute('aria-invalid'), null, 'the code field is not blamed');
  t.is(await page.getByRole('alert').count(), 0);
  t.deepEqual(scriptErrors, []);
});

test.serial('focus is visible: a focused button and link get a 3 px outline, in light and dark', async (t) => {
  const { page } = await open(t, 'en');
  await page.goto(`${world.server.issuer}/`);
  const outline = () => page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as unknown as { document: { activeElement: unknown }; getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string } };
    const style = getComputedStyle(document.activeElement);
    return `${style.outlineStyle} ${style.outlineWidth}`;
  });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.keyboard.press('Tab');
    t.is(await outline(), 'solid 3px', `${scheme}: the switcher link`);
    await page.keyboard.press('Tab');
    t.is(await outline(), 'solid 3px', `${scheme}: the sign-in button`);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
  }
});
