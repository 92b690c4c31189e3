// A QR sign-in under way, as the tests of its audit records and of blocking use
// it: a desktop at the login page with a QR, and a phone signed in as the
// account's owner that opened the QR's link (its approval page).
import type { oidc } from './oidc.ts';
import { beginAuthorization } from './oidc.ts';
import { createBrowser, readForm } from './browser.ts';
import { decodeQrSvg } from './qr-decode.ts';

export async function scannedQr(issuer: string, rp: oidc.Configuration, owner: { email: string; password: string }) {
  const desktop = await beginAuthorization(rp, 'openid email');
  const svg = /<svg[\s\S]*?<\/svg>/.exec(desktop.page.body)![0];
  const qrId = /data-id="([^"]+)"/.exec(desktop.page.body)![1]!;
  const base = /data-base="([^"]+)"/.exec(desktop.page.body)![1]!;
  const phone = createBrowser();
  const login = readForm(await phone.follow(`${issuer}/account`), /\/code$/);
  await phone.submit(login.action.replace(/\/code$/, '/login'), { ...login.hidden, identifier: owner.email, password: owner.password });
  const approval = await phone.follow(decodeQrSvg(svg));
  return { desktop, svg, qrId, base, phone, approval };
}
