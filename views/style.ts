// The one style sheet of every page: inlined by views/layout.ts in a <style> that
// carries the response's Content-Security-Policy nonce. System fonts only, nothing
// loaded from elsewhere; light and dark from prefers-color-scheme; from 320 px up.
export const STYLES = `
  :root {
    color-scheme: light dark;
    font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
    line-height: 1.5;
    --bg: #eef1f7; --card: #ffffff; --text: #1b1f2a; --muted: #555d6e; --border: #c6ccd8;
    --accent: #2b59c3; --accent-hover: #1f4699; --on-accent: #ffffff; --link: #2149a8;
    --error: #b00020; --error-bg: #fdecee; --notice-bg: #e7f0ff; --focus: #1a4fd0; --input-bg: #ffffff;
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --bg: #0e1117; --card: #171b23; --text: #e8eaf0; --muted: #a9afbd; --border: #3b4352;
      --accent: #8fb0ff; --accent-hover: #b0c8ff; --on-accent: #0b1020; --link: #a8c2ff;
      --error: #ff9a90; --error-bg: #3a1d20; --notice-bg: #1b2a45; --focus: #b0c8ff; --input-bg: #0f1319;
    }
  }
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; background: var(--bg); color: var(--text); display: flex; flex-direction: column; align-items: center; }
  header.top, main { width: min(28rem, 100% - 1.5rem); }
  main.wide, header.top.wide { width: min(52rem, 100% - 1.5rem); }
  header.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem 1rem; padding: 1rem 0 .75rem; }
  .brand { display: inline-flex; align-items: center; gap: .5rem; font-weight: 700; font-size: 1.05rem; color: var(--text); text-decoration: none; }
  .brand::before { content: ""; width: 1.6rem; height: 1.6rem; border-radius: .5rem; background: linear-gradient(135deg, var(--accent), #7a5cc7); }
  nav.lang a { font-size: .95rem; }
  main { background: var(--card); border: 1px solid var(--border); border-radius: 1rem; padding: 1.75rem; margin: 0 0 2rem; box-shadow: 0 1px 2px rgb(0 0 0 / .05), 0 8px 28px rgb(0 0 0 / .06); overflow-wrap: anywhere; }
  @media (max-width: 30rem) { main { padding: 1.25rem 1rem; border-radius: .75rem; } }
  h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
  h2 { font-size: 1.15rem; margin: 1.25rem 0 .5rem; }
  p { margin: 0 0 .75rem; }
  a { color: var(--link); text-underline-offset: .15em; }
  a:hover { text-decoration-thickness: 2px; }
  form { display: grid; gap: .75rem; margin: 0 0 1rem; }
  form > p { margin: 0; }
  label { display: grid; gap: .25rem; font-weight: 600; }
  input { font: inherit; font-size: max(1rem, 16px); font-weight: 400; color: var(--text); background: var(--input-bg); padding: .6rem .7rem; border: 1px solid var(--border); border-radius: .5rem; min-height: 2.75rem; width: 100%; }
  input[aria-invalid="true"] { border-color: var(--error); border-width: 2px; }
  button, a.button { font: inherit; font-weight: 600; display: inline-flex; align-items: center; justify-content: center; text-align: center; padding: .65rem 1rem; border-radius: .5rem; border: 1px solid var(--accent); background: var(--accent); color: var(--on-accent); cursor: pointer; min-height: 2.75rem; text-decoration: none; }
  button:hover, a.button:hover { background: var(--accent-hover); border-color: var(--accent-hover); }
  button.secondary, a.button.secondary { background: transparent; color: var(--text); border-color: var(--border); }
  button.secondary:hover, a.button.secondary:hover { background: var(--notice-bg); }
  button:disabled, button:disabled:hover { opacity: .6; cursor: not-allowed; background: transparent; color: var(--muted); border-color: var(--border); }
  :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
  input:focus-visible { outline-offset: 0; border-color: var(--focus); }
  .error { color: var(--error); font-weight: 600; }
  p.error[role="alert"] { background: var(--error-bg); border-radius: .5rem; padding: .5rem .75rem; }
  .muted, .hint { color: var(--muted); }
  .hint { font-weight: 400; font-size: .9rem; }
  .notice { font-weight: 600; background: var(--notice-bg); border-radius: .5rem; padding: .5rem .75rem; }
  ul.scopes { padding-left: 1.2rem; }
  nav.tabs { display: flex; gap: .25rem; margin: 0 0 1rem; border-bottom: 1px solid var(--border); }
  nav.tabs a { padding: .4rem .9rem; border-bottom: 3px solid transparent; margin-bottom: -1px; text-decoration: none; color: var(--muted); font-weight: 600; }
  nav.tabs a[aria-current="page"] { color: var(--text); border-bottom-color: var(--accent); }
  input[autocomplete="one-time-code"] { font-size: 1.5rem; letter-spacing: .3rem; text-align: center; }
  hr { border: 0; border-top: 1px solid var(--border); margin: .75rem 0; }
  code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
  details { margin: .75rem 0; }
  summary { cursor: pointer; }
  .actions { display: grid; gap: .75rem; margin: 1rem 0 0; }
  .qr-image svg { width: 12rem; height: 12rem; display: block; background: #fff; padding: .5rem; border-radius: .5rem; }
  section.qr { border-top: 1px solid var(--border); margin-top: 1.5rem; padding-top: 1rem; }
  /* A QR is for a camera pointed at a big screen: not on a phone, where it cannot be scanned
     (display:none also takes it out of the accessibility tree). */
  @media (max-width: 47.99rem) { section.qr { display: none; } }
  /* overflow-wrap: a full IPv6 address or a long app name wraps instead of widening the page past a phone's screen. */
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; overflow-wrap: anywhere; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
  dl.stacked { grid-template-columns: 1fr; gap: 0; }
  dl.stacked dd { margin: 0 0 .6rem; }
  .columns { display: grid; gap: 1.5rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr)); }
  .columns > section > h2 { margin-top: 0; }
  ul.links { padding-left: 1.2rem; margin: 0 0 .75rem; }
  ul.links li { margin: .35rem 0; }
  /* Branding: the instance's logo beside its name, its support link; a client's logo and links (sign-in, consent). */
  .brand.with-logo::before { content: none; }
  .brand img { height: 1.75rem; width: auto; max-width: 10rem; object-fit: contain; }
  footer.bottom { width: min(28rem, 100% - 1.5rem); text-align: center; margin: -1rem 0 2rem; }
  img.client-logo { display: block; width: 4rem; height: 4rem; object-fit: contain; border-radius: .75rem; margin: 0 0 .75rem; }
  nav.client-links ul { list-style: none; padding: 0; margin: 1rem 0 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .9rem; }
  .signed-in { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem .75rem; background: var(--notice-bg); border-radius: .5rem; padding: .5rem .75rem; }
`;
