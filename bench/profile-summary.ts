// Summarises a V8 CPU profile (node --cpu-prof) of the server: the functions
// with the most self time, and self time by package / source directory.
//
//   node bench/run.ts --only client-credentials --cpu-prof-dir /tmp/prof
//   node bench/profile-summary.ts /tmp/prof/embedded/enot-id/*.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (!positionals.length) {
  process.stderr.write('usage: node bench/profile-summary.ts FILE.cpuprofile [--top N]\n');
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, '..');

/** Where a function lives: an npm package, a directory of this repository, Node itself, or V8. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return 'node:' + (url.slice(5).split('/')[1] ?? url.slice(5));
  const file = url.replace(/^file:\/\//, '');
  if (file.startsWith(root)) return path.relative(root, path.dirname(file)) || '.';
  return file;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  let idle = 0;
  const functions = new Map<string, { ms: number; where: string }>();
  const areas = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    total += micros;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const name = functionName || '(anonymous)';
    const shortUrl = url.replace(/^file:\/\//, '').replace(root + '/', '');
    const key = `${name} ${shortUrl}:${lineNumber + 1}`;
    const entry = functions.get(key) ?? { ms: 0, where: area(url, functionName) };
    entry.ms += micros / 1000;
    functions.set(key, entry);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + micros / 1000);
  }
  const busy = (total - idle) / 1000;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`;
  process.stdout.write(`${file}\n  profiled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s (${((busy / (total / 1000)) * 100).toFixed(0)}%), idle ${(idle / 1e6).toFixed(1)} s\n`);
  process.stdout.write(`  top self time (share of busy time):\n`);
  for (const [key, { ms }] of [...functions].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top))) {
    process.stdout.write(`  ${pct(ms)}  ${ms.toFixed(0).padStart(7)} ms  ${key}\n`);
  }
  // Inclusive time of this repository's own functions: what our code spends, including what it calls.
  const inclusive = new Map<string, number>();
  const selfOf = (id: number) => (self.get(id) ?? 0) / 1000;
  const walk = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const own = url.startsWith(`file://${root}/`) && !url.includes('/node_modules/');
    const key = own ? `${functionName || '(anonymous)'} ${url.replace(`file://${root}/`, '')}:${lineNumber + 1}` : '';
    const counted = own && !onStack.has(key);
    if (counted) onStack.add(key);
    let sum = functionName === '(idle)' ? 0 : selfOf(id);
    for (const child of node.children ?? []) sum += walk(child, onStack);
    if (counted) {
      onStack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    }
    return sum;
  };
  walk(profile.nodes[0]!.id, new Set());
  process.stdout.write(`  this repository's functions by inclusive time:\n`);
  for (const [key, ms] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    process.stdout.write(`  ${pct(ms)}  ${ms.toFixed(0).padStart(7)} ms  ${key}\n`);
  }
  process.stdout.write(`  self time by package / directory:\n`);
  for (const [name, ms] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    process.stdout.write(`  ${pct(ms)}  ${ms.toFixed(0).padStart(7)} ms  ${name}\n`);
  }
}
