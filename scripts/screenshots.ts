// `npm run screenshots`: every page (test/helpers/page-tour.ts) in English and Russian,
// at 390 px (a phone) and 1280 px (a desktop), as PNGs of the viewport under
// docs/screenshots/pages/<locale>-<width>/<page>.png. Starts its own server (embedded
// storage unless DATABASE_URL / REDIS_URL are set) and Chromium (/usr/bin/chromium, or CHROMIUM_PATH).
// `npm run screenshots -- consent account` takes only those pages again and leaves the
// others as they are (a page that changed, or one the tour gained); with no names, the
// whole folder is taken again. test/screenshots.test.ts checks that none is missing.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, newTestContext } from '../test/helpers/chromium.ts';
import { SCREENSHOT_SIZES, startTourWorld, tour, TOUR_STOPS, type TourStop } from '../test/helpers/page-tour.ts';
import type { Locale } from '../server/i18n/locale.ts';

const OUT = path.resolve(import.meta.dirname, '..', 'docs', 'screenshots', 'pages');
const CONTEXT_LOCALE: Record<Locale, string> = { en: 'en-GB', ru: 'ru-RU' };

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(TOUR_STOPS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`no such page: ${unknown.join(', ')}; the pages are ${TOUR_STOPS.join(', ')}`);
  process.exit(1);
}
const wanted = (stop: TourStop) => asked.length === 0 || asked.includes(stop);

const browser = await launchChromium();
const world = await startTourWorld();
try {
  if (asked.length === 0) await rm(OUT, { recursive: true, force: true });
  for (const locale of ['en', 'ru'] as const) {
    for (const [width, options] of Object.entries(SCREENSHOT_SIZES)) {
      const dir = path.join(OUT, `${locale}-${width}`);
      await mkdir(dir, { recursive: true });
      const { context, page } = await newTestContext(browser, { ...options, deviceScaleFactor: 1, locale: CONTEXT_LOCALE[locale], colorScheme: 'light' });
      try {
        await tour(world, page, locale, `shots-${locale}-${width}@example.com`, async (stop) => {
          if (!wanted(stop)) return;
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
