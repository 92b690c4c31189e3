import { html, trusted } from './html.ts';
import { layout, type PageFrame } from './layout.ts';
import { csrfField, errorMessage } from './fields.ts';
import { strings } from './strings.ts';

// Counts the resend wait down every second and enables the button at zero. Without
// JavaScript the button stays disabled until the page is loaded again, and the
// server refuses an early resend anyway (with the wait next to the button).
const COUNTDOWN_SCRIPT = `(() => {
  const seconds = document.getElementById('resend-seconds');
  const button = document.getElementById('resend');
  const hint = document.getElementById('resend-wait');
  if (!seconds || !button || !hint) return;
  const until = Date.now() + Number(seconds.textContent) * 1000;
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0) { button.disabled = false; button.removeAttribute('aria-describedby'); hint.hidden = true; return; }
    seconds.textContent = String(left);
    setTimeout(tick, 1000);
  };
  tick();
})();`;

/** `t.resendIn(seconds)` with the number in a span the countdown rewrites. */
function resendWait(text: (seconds: number) => string, seconds: number) {
  const marker = 987654321;
  const [before, after] = text(marker).split(String(marker));
  return html`${before}<span id="resend-seconds">${seconds}</span>${after}`;
}

export function codePage(input: PageFrame & {
  base: string;
  flowPath: string;
  csrf: string;
  sentTo: string;
  /** Seconds until a new code may be asked for: the resend button waits that long. */
  resendInSeconds: number;
  /** About the typed code: shown under the code field. */
  error?: string;
  notice?: string;
  /** A resend the server refused (too early): said next to the resend button, not under the code. */
  resendRefused?: boolean;
}): string {
  const t = strings(input.locale);
  const waiting = input.resendInSeconds > 0;
  return layout(
    t.codeTitle,
    html`<h1>${t.codeTitle}</h1>
<p>${t.codeSentTo(input.sentTo)}</p>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
<form method="post" action="${input.flowPath}/code" novalidate>
  ${csrfField(input.csrf)}
  <label>${t.codeLabel}
    <input type="text" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autofocus ${input.error ? html`aria-describedby="code-error" aria-invalid="true"` : ''}>
  </label>
  ${errorMessage('code-error', input.error)}
  <button type="submit">${t.confirm}</button>
</form>
<form method="post" action="${input.flowPath}/resend">
  ${csrfField(input.csrf)}
  ${waiting ? html`<p class="hint" id="resend-wait" ${input.resendRefused ? html`role="status"` : ''}>${resendWait(t.resendIn, input.resendInSeconds)}</p>` : ''}
  <button type="submit" id="resend" class="secondary" ${waiting ? html`disabled aria-describedby="resend-wait"` : ''}>${t.resend}</button>
</form>
${waiting ? html`<script nonce="${input.nonce}">${trusted(COUNTDOWN_SCRIPT)}</script>` : ''}
<p><a href="${input.base}">${t.startOver}</a></p>`,
    input,
  );
}
