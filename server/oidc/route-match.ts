// oidc-provider's router matches paths case-insensitively (ASCII letters) and
// with one trailing slash ignored (node_modules/oidc-provider/lib/helpers/router.js):
// `/DEVICE`, `/Device/` and `/device` are one route. Middleware that must act on
// one of its routes before the router runs matches the same way, or a spelling
// slips past it (issue 10 A2). Over-matching (non-ASCII letters folded too) is
// harmless for what runs before the router: the router then answers 404.

/** True when `path` is the route `template` (segments like `:uid` match any non-empty segment). */
export function matchesRoute(path: string, template: string): boolean {
  const actual = segmentsOf(path);
  const expected = template.split('/');
  if (actual.length !== expected.length) return false;
  return expected.every((segment, i) => (segment.startsWith(':') ? actual[i] !== '' : segment.toLowerCase() === actual[i]));
}

/** A path as oidc-provider's router compares it: ASCII case folded, one trailing slash dropped. */
export function routeKey(path: string): string {
  return (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).toLowerCase();
}

// Several middlewares match the same request's path against their routes, one after
// the other: the last path's segments are kept (a pure function of the path).
let lastPath: string | undefined;
let lastSegments: string[] = [];
function segmentsOf(path: string): string[] {
  if (path !== lastPath) {
    lastSegments = routeKey(path).split('/');
    lastPath = path;
  }
  return lastSegments;
}
