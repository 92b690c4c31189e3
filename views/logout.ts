import { html, trusted } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { strings } from './strings.ts';

/** oidc-provider hands us its own form (with its xsrf token); we wrap it. */
export function logoutConfirmPage(input: PageFrame & { form: string; clientName?: string }): string {
  const t = strings(input.locale);
  return layout(
    t.signOut,
    html`<h1>${input.clientName ? t.signOutOf(input.clientName) : t.signOutQuestion}</h1>
${trusted(input.form)}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes">${t.signOutYes}</button>
<button type="submit" form="op.logoutForm" class="secondary">${t.signOutNo}</button>
</div>`,
    input,
  );
}

/** After signing out without a way back to an app: the way back is here (sign in again, or the start page). */
export function logoutDonePage(input: PageFrame & { clientName?: string; stillSignedIn?: boolean }): string {
  const t = strings(input.locale);
  const still = input.stillSignedIn && !input.clientName;
  const text = input.clientName ? t.signedOutOf(input.clientName) : still ? t.stillSignedIn : t.signedOut;
  return layout(
    t.signedOutTitle,
    html`<h1>${still ? t.stillSignedInHeading : t.signedOutHeading}</h1>
<p role="status">${text}</p>
<div class="actions">
<a class="button" href="/account">${still ? t.accountTitle : t.signInAgain}</a>
<a class="button secondary" href="/">${t.toHome}</a>
</div>`,
    input,
  );
}
