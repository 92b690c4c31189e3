import { html, type SafeHtml } from '../html.ts';
import type { Locale } from '../../server/i18n/locale.ts';

// Mail clients drop <style> blocks and external CSS, so every style is inline.
export function emailDocument(locale: Locale, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
</head>
<body style="margin:0;padding:0;background:#ffffff;color:#1a1a1a;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:16px;line-height:1.5">
<div style="max-width:32rem;margin:0 auto;padding:24px">
${body}
</div>
</body>
</html>`.value;
}
