import { html } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { errorText, strings } from './strings.ts';

/**
 * An error, told in the person's language by its code; the `description` (the
 * protocol's error_description, in English) is kept for the app's developer.
 */
export function errorPage(input: PageFrame & { status: number; error: string; description: string }): string {
  const t = strings(input.locale);
  return layout(
    t.errorTitle,
    html`<h1>${t.errorTitle}</h1>
<p class="error" role="alert">${errorText(t, input.error)}</p>
<details>
  <summary>${t.errorDetails}</summary>
  <p lang="en">${input.description}</p>
  <p class="muted">${t.errorCode}: <code>${input.error}</code> (HTTP ${input.status})</p>
</details>
<p><a href="/">${t.toHome}</a></p>`,
    input,
  );
}
