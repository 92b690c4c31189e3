// QR sign-in pieces: the block on the desktop's sign-in page, and the phone's pages.
import { html, trusted } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField } from './fields.ts';
import { strings } from './strings.ts';
import type { Locale } from '../server/i18n/locale.ts';

export interface QrBlock {
  id: string;
  /** SVG markup made by the qrcode library from our own URL. */
  svg: string;
  base: string;
  csrf: string;
}

// Polls the state across server processes (it lives in the database), renews
// an expired QR, and leaves for the completion URL once the phone approved.
// Without JavaScript the "continue" link does the same by hand.
const POLL_SCRIPT = `(() => {
  const box = document.getElementById('qr');
  if (!box || !window.fetch) return;
  const base = box.dataset.base, csrf = box.dataset.csrf, texts = JSON.parse(box.dataset.texts);
  const status = document.getElementById('qr-status');
  let id = box.dataset.id, stopped = false;
  const show = (text) => { status.textContent = text; };
  // A 4xx means this sign-in page itself is over (its interaction expired or was
  // finished elsewhere): say so and stop; a 5xx or a network error is retried.
  const over = (r) => { if (r.status >= 400 && r.status < 500) { stopped = true; show(texts.over); box.querySelector('.qr-image').hidden = true; } };
  async function renew(message) {
    const r = await fetch(base + '/qr', { method: 'POST', headers: { 'x-csrf-token': csrf, accept: 'application/json' } });
    if (!r.ok) return over(r);
    const next = await r.json();
    id = next.id;
    box.dataset.id = id;
    box.querySelector('.qr-image').innerHTML = next.svg;
    box.querySelector('.qr-continue').setAttribute('href', base + '/qr/' + id + '/complete');
    show(message);
  }
  async function poll() {
    // Hidden on a narrow screen (the style sheet): nothing to scan, nothing to ask.
    if (!box.offsetParent) { setTimeout(poll, 2000); return; }
    try {
      const r = await fetch(base + '/qr/' + id, { headers: { accept: 'application/json' } });
      if (r.ok) {
        const { state } = await r.json();
        if (state === 'approved') { show(texts.approved); location.assign(base + '/qr/' + id + '/complete'); return; }
        if (state === 'scanned') show(texts.scanned);
        if (state === 'denied') await renew(texts.denied);
        if (state === 'expired') await renew(texts.expired);
      } else over(r);
    } catch (e) {}
    if (!stopped) setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();`;

/** `nonce`: the page's Content-Security-Policy nonce, for the poll script; `product`: the instance's name. */
export function qrBlock(locale: Locale, qr: QrBlock, nonce: string, product: string) {
  const t = strings(locale);
  const texts = JSON.stringify({ scanned: t.qrScanned, expired: t.qrExpired, denied: t.qrDenied, approved: t.qrApproved, over: t.qrPageOver });
  return html`<section id="qr" class="qr" aria-labelledby="qr-title" data-id="${qr.id}" data-base="${qr.base}" data-csrf="${qr.csrf}" data-texts="${texts}">
  <h2 id="qr-title">${t.qrTitle}</h2>
  <p>${t.brandQrHelp(product)}</p>
  <div class="qr-image" role="img" aria-label="${t.qrTitle}">${trusted(qr.svg)}</div>
  <p id="qr-status" role="status"></p>
  <p><a class="qr-continue" href="${qr.base}/qr/${qr.id}/complete">${t.qrContinue}</a></p>
  <script nonce="${nonce}">${trusted(POLL_SCRIPT)}</script>
</section>`;
}

export function qrApprovePage(input: PageFrame & {
  action: string;
  csrf: string;
  clientName: string;
  device: string;
  ip: string;
  requestedAt: Date;
}): string {
  const t = strings(input.locale);
  const time = input.requestedAt.toLocaleString(input.locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: 'UTC', timeZoneName: 'short' });
  return layout(
    t.qrApproveTitle,
    // The layout's dl wraps anywhere: a full IPv6 address (or a long app name) does not widen the page past a phone's screen.
    html`<h1>${t.qrApproveTitle}</h1>
<dl>
  <dt>${t.qrApp}</dt><dd>${input.clientName}</dd>
  <dt>${t.qrDevice}</dt><dd>${input.device}</dd>
  <dt>${t.qrIp}</dt><dd>${input.ip}</dd>
  <dt>${t.qrTime}</dt><dd>${time}</dd>
</dl>
<p class="error">${t.qrWarning}</p>
<form method="post" action="${input.action}/approve">
  ${csrfField(input.csrf)}
  <button type="submit">${t.qrApprove}</button>
</form>
<form method="post" action="${input.action}/deny">
  ${csrfField(input.csrf)}
  <button type="submit" class="secondary">${t.qrDeny}</button>
</form>`,
    input,
  );
}

export function qrMessagePage(frame: PageFrame, message: string): string {
  const t = strings(frame.locale);
  return layout(t.qrTitle, html`<h1>${t.qrTitle}</h1><p role="status">${message}</p>`, frame);
}
