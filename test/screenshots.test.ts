// The screenshots under docs/screenshots/pages/ (issue 12, Tests): every page of the
// tour (test/helpers/page-tour.ts) in English and Russian at 390 and 1280 px, as
// `npm run screenshots` (scripts/screenshots.ts) writes them; nothing missing when the
// tour gains a page, nothing left over when it loses one; each a PNG of its viewport;
// and the README shows only screenshots that are there.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SCREENSHOT_SIZES, TOUR_STOPS } from './helpers/page-tour.ts';
import { ROOT } from './helpers/process.ts';

const DIR = path.join(ROOT, 'docs', 'screenshots', 'pages');

/** Width and height from a PNG's IHDR chunk (PNG §11.2.2), after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (!bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return undefined;
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('a screenshot of every page of the tour, in both languages, at 390 and 1280 px, each of its viewport', async (t) => {
  const expected = ['en', 'ru'].flatMap((locale) => Object.keys(SCREENSHOT_SIZES).map((width) => `${locale}-${width}`));
  t.deepEqual((await readdir(DIR)).sort(), expected.sort());
  for (const dir of expected) {
    const width = Number(dir.split('-')[1]);
    const files = await readdir(path.join(DIR, dir));
    const pages = TOUR_STOPS.map((stop) => `${stop}.png`);
    t.deepEqual(
      { missing: pages.filter((file) => !files.includes(file)), extra: files.filter((file) => !pages.includes(file)) },
      { missing: [], extra: [] },
      `${dir}: npm run screenshots -- <the missing pages>`,
    );
    for (const file of files) {
      t.deepEqual(pngSize(await readFile(path.join(DIR, dir, file))), SCREENSHOT_SIZES[width]!.viewport, `${dir}/${file}`);
    }
  }
});

test('docs/screenshots/ holds only what npm run screenshots writes', async (t) => {
  t.deepEqual(await readdir(path.join(ROOT, 'docs', 'screenshots')), ['pages']);
});

test('the README shows screenshots that exist', async (t) => {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const shown = [...readme.matchAll(/\]\((docs\/screenshots\/[^)]+\.png)\)/g)].map((m) => m[1]!);
  t.true(shown.length >= 3, 'the README shows the pages');
  for (const file of shown) await t.notThrowsAsync(readFile(path.join(ROOT, file)), file);
});
