import { html } from './html.ts';
import { layout } from './layout.ts';

export function errorPage(input: { status: number; error: string; description: string; nonce: string }): string {
  return layout(
    'Something went wrong',
    html`<h1>Something went wrong</h1>
<p class="error" role="alert">${input.description}</p>
<p class="muted">Error code: <code>${input.error}</code> (HTTP ${input.status})</p>`,
    { nonce: input.nonce },
  );
}
