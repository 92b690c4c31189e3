// HTTP-level helpers for the /account pages: a browser (./browser.ts) signed in
// through the provider's own sign-in page, forms submitted with their hidden fields.
import { createBrowser, readForm, type Page } from './browser.ts';

export type Browser = ReturnType<typeof createBrowser>;

/** Submits the first form whose action matches `action`, with its hidden fields (CSRF) and `fields`. */
export async function submitForm(browser: Browser, page: Page, action: RegExp, fields: Record<string, string> = {}) {
  const form = readForm(page, action);
  return browser.submit(form.action, { ...form.hidden, ...fields });
}

/** A new browser signed in to /account by password; `browser` to use one that has cookies already. */
export async function accountByPassword(issuer: string, email: string, password: string, browser: Browser = createBrowser()) {
  const login = await browser.follow(`${issuer}/account`);
  const form = readForm(login, /\/code$/);
  const account = await browser.submit(form.action.replace(/\/code$/, '/login'), { ...form.hidden, identifier: email, password });
  if (!account.url.endsWith('/account')) throw new Error(`sign-in did not reach /account: ${account.url} ${account.status}`);
  return { browser, account };
}

/** Re-authenticates by password (the step-up); returns the account page it leads to. */
export async function stepUpByPassword(issuer: string, browser: Browser, password: string) {
  const reauth = await browser.follow(`${issuer}/account/reauth`);
  return submitForm(browser, reauth, /\/account\/reauth\/password$/, { password });
}
