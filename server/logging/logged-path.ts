// A request path as it may be logged. Secrets never reach logs, URL paths included
// (README; OWASP ASVS V7.1.1): the QR token in /qr/:token(/approve|/deny) is a
// bearer secret (whoever holds it can approve the desktop's sign-in), so it is
// replaced. Other path parameters are no secrets: interaction uids and flow ids are
// bound to the browser's cookie, the QR id under /interaction to its interaction.
// Query strings are never logged.

// @koa/router matches case-insensitively and tolerates repeated slashes, so does this.
const SECRET_SEGMENTS: Array<[RegExp, string]> = [[/^(\/+qr\/)[^/]+/i, '$1[redacted]']];

export function loggedPath(path: string): string {
  return SECRET_SEGMENTS.reduce((redacted, [pattern, replacement]) => redacted.replace(pattern, replacement), path);
}
