// The documentation as a newcomer reads it, from the README: every page under docs/
// is reachable by a link (a page nobody links to is one nobody finds: the
// troubleshooting table was such a page), and every relative link points to a file
// that is there.
import test from 'ava';
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './helpers/process.ts';

const DOCS = ['README.md', ...(await readdir(path.join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Relative Markdown link targets of a file, as paths from the repository's root (no anchors, no URLs). */
async function links(file: string): Promise<string[]> {
  const text = await readFile(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => path.posix.normalize(path.posix.join(path.posix.dirname(file), target)));
}

test('every page under docs/ is linked from the README or another page', async (t) => {
  const linked = new Set<string>();
  for (const file of DOCS) for (const target of await links(file)) if (target !== file) linked.add(target);
  t.deepEqual(DOCS.filter((file) => file !== 'README.md' && !linked.has(file)), []);
});

test('every relative link in the README and docs/ points to a file that exists', async (t) => {
  const broken: string[] = [];
  for (const file of DOCS) {
    for (const target of await links(file)) {
      await access(path.join(ROOT, target)).catch(() => broken.push(`${file} → ${target}`));
    }
  }
  t.deepEqual(broken, []);
});
