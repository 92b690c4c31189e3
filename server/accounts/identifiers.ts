import { InvalidRequest } from '../errors/index.ts';

// RFC 5321 §4.5.3.1: at most 254 characters in a usable address.
const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** Trimmed, domain lower-cased; throws InvalidRequest for something that is not an address. */
export function normalizeEmail(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length > 254 || !EMAIL.test(trimmed)) throw new InvalidRequest('enter a valid email address');
  const at = trimmed.lastIndexOf('@');
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}
