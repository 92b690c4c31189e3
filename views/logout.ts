import { html, trusted } from './html.ts';
import { layout } from './layout.ts';

/** oidc-provider hands us its own form (with its xsrf token); we wrap it. */
export function logoutConfirmPage({ form, clientName, nonce }: { form: string; clientName?: string; nonce: string }): string {
  return layout(
    'Sign out',
    html`<h1>Sign out${clientName ? html` of ${clientName}` : ''}?</h1>
${trusted(form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
    { nonce },
  );
}

export function logoutDonePage({ clientName, nonce }: { clientName?: string; nonce: string }): string {
  return layout(
    'Signed out',
    html`<h1>You are signed out</h1>
<p>${clientName ? html`You have signed out of ${clientName}.` : 'You have signed out.'}</p>`,
    { nonce },
  );
}
