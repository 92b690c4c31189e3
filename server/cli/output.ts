// Text output of the CLI: aligned columns for lists, `name: value` lines for one
// item. (--json prints the admin API's objects as they are.)

/** Rows as columns separated by two spaces, each as wide as its widest cell; the last column is not padded. */
export function columns(rows: string[][]): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length ? value.map(show).join(', ') : '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One `name: value` line per member of `item` (arrays as comma lists, absent as "-"). */
export function fields(item: Record<string, unknown>, names: string[] = Object.keys(item)): string {
  const width = Math.max(...names.map((n) => n.length));
  return names.map((name) => `${`${name}:`.padEnd(width + 1)} ${show(item[name])}`).join('\n');
}

/** A list, or the given line when it is empty. */
export function listing(items: Record<string, unknown>[], names: string[], empty: string): string {
  if (!items.length) return empty;
  return columns(items.map((item) => names.map((name) => show(item[name]))));
}
