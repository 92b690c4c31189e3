import type { Context } from 'koa';
import { PayloadTooLarge, UnsupportedMediaType, InvalidRequest } from '../errors/index.ts';
import { readBody } from './read-body.ts';

// Our forms are a handful of short fields; anything bigger is not a person typing.
const FORM_LIMIT_BYTES = 16 * 1024;

/** Reads an application/x-www-form-urlencoded body, refusing other types and oversized bodies. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new UnsupportedMediaType();
  const text = (await readBody(ctx, FORM_LIMIT_BYTES, () => new PayloadTooLarge())).toString('utf8');
  if (text.includes('\uFFFD')) throw new InvalidRequest('the form is not valid UTF-8');
  return new URLSearchParams(text);
}

/** A single-valued text field; repeated or oversized fields are malformed requests. */
export function field(form: URLSearchParams, name: string, maxLength = 1024): string {
  const values = form.getAll(name);
  if (values.length > 1) throw new InvalidRequest(`${name} was sent more than once`);
  const value = values[0] ?? '';
  if (value.length > maxLength) throw new InvalidRequest(`${name} is too long`);
  return value;
}
