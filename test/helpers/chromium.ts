// Real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// for the browser journeys: one browser per test file, one context per test, the
// relying party's redirect_uri answered in the browser, and an accessibility check
// (axe-core) plus a screenshot of every page a journey visits.
import { createRequire } from 'node:module';
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { REDIRECT_URI } from './oidc.ts';

const require = createRequire(import.meta.url);
const AXE_SCRIPT = require.resolve('axe-core/axe.min.js');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
];

/** One browser for a whole test file; close it in test.after.always. */
export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM_PATH, constants.X_OK).catch(() => {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install chromium) or set CHROMIUM_PATH`);
  });
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}

/** What the relying party's (unserved) redirect_uri answers inside the browser. */
const RP_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example RP</title></head>
<body><main><h1>Back at the app</h1></main></body></html>`;

/** Where the relying party's origin serves its logo inside Chromium: a 64 px teal square with a white N, as base64 PNG. */
export const RP_LOGO_PATH = '/logo.png';
const RP_LOGO_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAYAAACqaXHeAAAA+UlEQVR42u3bQQ6DMAxE0ZygF27vXnbdUCAxxIpnfqRukectKuzg1oLn9Xl/V/q1mWe1sGkoVYM/AqESPoSgFn4IQTV8F4J6+FMEl/CHCNYAbuF3CAAAAIAvgGv4HwIANx/Qc1Z+PgAAADAf4E6RMgDRQqUAIsXKAYwWLAkwUrQsQG/h0gA9xcsDXAWwADgLYQNwFMQK4F8YmV4giiDVDEUQ5LrBUQTJdnj2/0aJeYA9QMY7RImJkD1ARj9RYiZoD5AxWygxFbYHyJgzlrgXsAfIuHPgZggAAADgCxG+EgMAAADsAdgXAICVGZamWJtjcZLVWZanHdfnN+HWTNUWtOwFAAAAAElFTkSuQmCC';

export interface TestContext {
  context: BrowserContext;
  page: Page;
  /** Uncaught script errors of any page in this context. */
  scriptErrors: string[];
}

/**
 * A fresh browser context (own cookies, so its own oidc-provider session) with one
 * page. Requests to the redirect_uri's origin are answered inside Chromium with a
 * small page, so a journey ends there and the test reads the authorization
 * response from the page's URL.
 *
 * The answer comes from Chromium's network layer (CDP Fetch domain on the page's
 * session), not from `page.route`: Playwright routes only the request a navigation
 * starts with, never the hops of a redirect, and the provider reaches the
 * redirect_uri by a 303. With Fetch interception Chromium follows that 303 itself
 * and the small page loads at the callback URL, before any DNS lookup.
 */
export async function newTestContext(browser: Browser, options: BrowserContextOptions = {}): Promise<TestContext> {
  const context = await browser.newContext({
    viewport: { width: 1024, height: 768 },
    locale: 'en-GB',
    // axe is injected as an inline script; a future Content-Security-Policy must not stop it.
    bypassCSP: true,
    ...options,
  });
  context.setDefaultTimeout(15_000);
  const scriptErrors: string[] = [];
  context.on('weberror', (error) => scriptErrors.push(String(error.error())));
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (event) => {
    const { pathname } = new URL(event.request.url);
    // The relying party's logo (its logo_uri, test/helpers/page-tour.ts), so pages show it as people would see it.
    const logo = pathname === RP_LOGO_PATH;
    cdp
      .send('Fetch.fulfillRequest', {
        requestId: event.requestId,
        responseCode: pathname === new URL(REDIRECT_URI).pathname || logo ? 200 : 404,
        responseHeaders: [{ name: 'content-type', value: logo ? 'image/png' : 'text/html; charset=utf-8' }, { name: 'cache-control', value: 'no-store' }],
        body: logo ? RP_LOGO_PNG : Buffer.from(RP_PAGE).toString('base64'),
      })
      .catch(() => {}); // the context closed meanwhile
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${new URL(REDIRECT_URI).origin}/*`, requestStage: 'Request' }] });
  return { context, page, scriptErrors };
}

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  /** CSS selectors of the offending nodes. */
  targets: string[];
}

export interface AccessibilityReport {
  /** Where the full-page screenshot was written. */
  screenshot: string;
  violations: AxeFinding[];
  /** The violations of impact `serious` or `critical`, one readable line each: these fail a test. */
  blocking: string[];
}

/**
 * Saves a full-page screenshot as test-artifacts/screenshots/<name>.png, then runs
 * axe-core (every rule of its default set) on the page as it is.
 */
export async function checkAccessibility(page: Page, name: string): Promise<AccessibilityReport> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const screenshot = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.addScriptTag({ path: AXE_SCRIPT });
  const violations = await page.evaluate(async () => {
    interface AxeResult {
      violations: Array<{ id: string; impact?: string | null; help: string; helpUrl: string; nodes: Array<{ target: unknown[] }> }>;
    }
    const { axe } = globalThis as unknown as { axe: { run(options: object): Promise<AxeResult> } };
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.map(String).join(' ')),
    }));
  });
  const blocking = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: ${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')}) ${v.helpUrl}`);
  return { screenshot, violations, blocking };
}

export interface FocusedElement {
  tag: string;
  name: string | null;
  type: string | null;
  text: string;
}

/** `document.activeElement`, described. */
export function focusedElement(page: Page): Promise<FocusedElement> {
  return page.evaluate(() => {
    interface MiniElement {
      tagName: string;
      textContent: string | null;
      getAttribute(name: string): string | null;
    }
    const { document } = globalThis as unknown as { document: { activeElement: MiniElement | null } };
    const el = document.activeElement;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      name: el?.getAttribute('name') ?? null,
      type: el?.getAttribute('type') ?? null,
      text: (el?.textContent ?? '').trim(),
    };
  });
}

/** How far the page is wider than its viewport (0: no sideways scrolling). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const { document } = globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } };
    return Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth);
  });
}
