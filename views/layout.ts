import { html, trusted, type SafeHtml } from './html.ts';

const styles = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; place-items: center; min-height: 100vh; background: Canvas; }
  main { width: min(26rem, 100% - 2rem); padding: 2rem 0; }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; }
  form { display: grid; gap: .75rem; margin: 0 0 1rem; }
  form > p { margin: 0; }
  label { display: grid; gap: .25rem; font-weight: 600; }
  input { font: inherit; font-weight: 400; padding: .6rem; border: 1px solid GrayText; border-radius: .4rem; box-sizing: border-box; min-height: 2.75rem; }
  button { font: inherit; padding: .7rem; border-radius: .4rem; border: 0; background: #2b59c3; color: #fff; cursor: pointer; box-sizing: border-box; min-height: 2.75rem; }
  button.secondary { background: transparent; color: inherit; border: 1px solid GrayText; }
  .error { color: #b00020; color: light-dark(#b00020, #ff8a80); font-weight: 600; }
  .muted { color: #595959; color: light-dark(#595959, #a6a6a6); }
  ul.scopes { padding-left: 1.2rem; }
  nav.tabs { display: flex; gap: 1rem; margin: 0 0 1rem; }
  nav.tabs a[aria-current="page"] { font-weight: 700; text-decoration: none; }
  .hint { font-weight: 400; font-size: .9rem; color: #595959; color: light-dark(#595959, #a6a6a6); }
  input[autocomplete="one-time-code"] { font-size: 1.5rem; letter-spacing: .3rem; text-align: center; }
  hr { border: 0; border-top: 1px solid GrayText; margin: .75rem 0; }
  .notice { font-weight: 600; }
  .qr-image svg { width: 12rem; height: 12rem; display: block; }
  section.qr { border-top: 1px solid GrayText; margin-top: 1.5rem; padding-top: 1rem; }
  /* overflow-wrap: a full IPv6 address or a long app name wraps instead of widening the page past a phone's screen. */
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; overflow-wrap: anywhere; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
`;

/**
 * The page around `body`. `nonce` is this response's Content-Security-Policy nonce
 * (the server makes a fresh one per response): the style sheet, and any script in
 * `body`, carry it, so markup injected into a page neither runs nor styles it.
 */
export function layout(title: string, body: SafeHtml, page: { nonce: string; lang?: string }): string {
  return html`<!doctype html>
<html lang="${page.lang ?? 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Enot ID</title>
<style nonce="${page.nonce}">${trusted(styles)}</style>
</head>
<body><main>
${body}
</main></body>
</html>`.value;
}
