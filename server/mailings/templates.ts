// A mailing's templates: subject, plain text and HTML per language, with the
// account's fields as `{{email}}`, `{{phone}}`, `{{id}}`. In HTML every value is
// escaped (an account's email may hold `<script>`); unknown names stay as written.
import { z } from 'zod';
import { escapeHtml } from '../../views/html.ts';
import { LOCALES, type Locale } from '../i18n/locale.ts';

const template = z.object({
  subject: z.string().min(1).max(200),
  text: z.string().min(1).max(100_000),
  html: z.string().min(1).max(200_000).optional(),
});
/** English is required: the fallback of every other language. */
export const templatesSchema = z.object({ en: template, ru: template.optional() });
export type Templates = z.infer<typeof templatesSchema>;

export interface RecipientFields {
  id: string;
  email: string | null;
  phone: string | null;
}

const VARIABLE = /\{\{\s*(email|phone|id)\s*\}\}/g;

function fill(text: string, fields: RecipientFields, escape: (value: string) => string): string {
  return text.replace(VARIABLE, (_, name: keyof RecipientFields) => escape(fields[name] ?? ''));
}

export function renderMailing(templates: Templates, locale: Locale, fields: RecipientFields) {
  const chosen = (LOCALES.includes(locale) && templates[locale]) || templates.en;
  // A subject is a header: no line breaks from a field (header injection).
  const subject = fill(chosen.subject, fields, (v) => v.replace(/[\r\n]+/g, ' '));
  return {
    subject,
    text: fill(chosen.text, fields, (v) => v),
    html: chosen.html === undefined ? undefined : fill(chosen.html, fields, escapeHtml),
  };
}

const UNSUBSCRIBE: Record<Locale, string> = { en: 'Unsubscribe', ru: 'Отписаться' };

/**
 * The mailing with its unsubscribe link (issue 13 §3) at the end of each part: the text,
 * and the HTML that most mail clients show instead (before `</body>` when the
 * operator's HTML has one). The same URL as the List-Unsubscribe header.
 */
export function withUnsubscribeLink<T extends { text: string; html?: string }>(content: T, locale: Locale, url: string): T {
  const word = UNSUBSCRIBE[locale] ?? UNSUBSCRIBE.en;
  const text = `${content.text}\n\n${word}: ${url}\n`;
  if (content.html === undefined) return { ...content, text };
  const footer = `<p><a href="${escapeHtml(url)}">${escapeHtml(word)}</a></p>`;
  const end = content.html.search(/<\/body\s*>/i);
  const html = end === -1 ? `${content.html}\n${footer}` : `${content.html.slice(0, end)}${footer}\n${content.html.slice(end)}`;
  return { ...content, text, html };
}
