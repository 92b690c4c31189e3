// `npm run screenshots`: every page (test/helpers/page-tour.ts) in English and Russian,
// at 390 px (a phone) and 1280 px (a desktop), as PNGs of the viewport under
// docs/screenshots/pages/<locale>-<width>/<page>.png. Starts its own server (embedded
// storage unless DATABASE_URL / REDIS_URL are set) and Chromium (/usr/bin/chromium, or CHROMIUM_PATH).
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContextOptions } from 'playwright-core';
import { launchChromium, newTestContext } from '../test/helpers/chromium.ts';
import { startTourWorld, tour } from '../test/helpers/page-tour.ts';
import type { Locale } from '../server/i18n/locale.ts';

const OUT = path.resolve(import.meta.dirname, '..', 'docs', 'screenshots', 'pages');
const SIZES: Record<number, BrowserContextOptions> = {
  390: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  1280: { viewport: { width: 1280, height: 800 } },
};
const CONTEXT_LOCALE: Record<Locale, string> = { en: 'en-GB', ru: 'ru-RU' };

const browser = await launchChromium();
const world = await startTourWorld();
try {
  await rm(OUT, { recursive: true, force: true });
  for (const locale of ['en', 'ru'] as const) {
    for (const [width, options] of Object.entries(SIZES)) {
      const dir = path.join(OUT, `${locale}-${width}`);
      await mkdir(dir, { recursive: true });
      const { context, page } = await newTestContext(browser, { ...options, deviceScaleFactor: 1, locale: CONTEXT_LOCALE[locale], colorScheme: 'light' });
      try {
        await tour(world, page, locale, `shots-${locale}-${width}@example.com`, async (stop) => {
          await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
          await page.screenshot({ path: path.join(dir, `${stop}.png`), animations: 'disabled', scale: 'css', caret: 'hide' });
        });
      } finally {
        await context.close();
      }
      console.log(`${path.relative(process.cwd(), dir)}: done`);
    }
  }
} finally {
  await world.stop();
  await browser.close();
}
