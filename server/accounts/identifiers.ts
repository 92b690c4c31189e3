// Emails and phone numbers as people type them, turned into the one form we
// store and compare: emails trimmed with the domain lower-cased, phones E.164.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { InvalidRequest } from '../errors/index.ts';

// RFC 5321 §4.5.3.1: at most 254 characters in a usable address.
const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export type Identifier = { kind: 'email'; value: string } | { kind: 'phone'; value: string };

/** What is wrong with a typed identifier; the pages say it in the person's language (views/strings.ts). */
export type IdentifierIssue = 'missing' | 'email' | 'phone' | 'phone_country';

export class InvalidIdentifier extends InvalidRequest {
  readonly issue: IdentifierIssue;
  constructor(issue: IdentifierIssue, description: string) {
    super(description);
    this.issue = issue;
  }
}

/** Trimmed, domain lower-cased; throws InvalidRequest for something that is not an address. */
export function normalizeEmail(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length > 254 || !EMAIL.test(trimmed)) throw new InvalidIdentifier('email', 'enter a valid email address');
  const at = trimmed.lastIndexOf('@');
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

/** E.164 (ITU-T E.164), e.g. +4915123456789; numbers without + are read in `defaultRegion`. */
export function normalizePhone(input: string, defaultRegion: string): string {
  const trimmed = input.trim();
  if (trimmed.length > 32 || !/^[+\d\s().\-/]+$/.test(trimmed)) throw new InvalidIdentifier('phone', 'enter a valid phone number');
  const phone = parsePhoneNumberFromString(trimmed, defaultRegion as CountryCode);
  if (!phone || !phone.isValid()) {
    if (trimmed.startsWith('+')) throw new InvalidIdentifier('phone', 'enter a valid phone number');
    throw new InvalidIdentifier('phone_country', 'enter a valid phone number, with the country code (for example +49 …)');
  }
  return phone.number;
}

/** An email if it has an @, otherwise a phone number. */
export function parseIdentifier(input: string, defaultRegion: string): Identifier {
  if (!input.trim()) throw new InvalidIdentifier('missing', 'enter your email address or phone number');
  return input.includes('@')
    ? { kind: 'email', value: normalizeEmail(input) }
    : { kind: 'phone', value: normalizePhone(input, defaultRegion) };
}

/**
 * The key under which every per-identifier limit counts an address. Account
 * lookup ignores the case of an email (lower(email) = lower(?)), so the key
 * lower-cases the whole address: typing it in other capitals must not earn a
 * fresh hour of sends, codes or passwords. Only for counting; never stored as
 * the address.
 */
export function identifierKey(identifier: Identifier): string {
  return `${identifier.kind}:${identifier.kind === 'email' ? identifier.value.toLowerCase() : identifier.value}`;
}

/** For pages and logs: a@example.com → a…@example.com, +4915123456789 → +49…789. */
export function maskIdentifier(identifier: Identifier): string {
  if (identifier.kind === 'email') {
    const at = identifier.value.lastIndexOf('@');
    return `${identifier.value.slice(0, 1)}…${identifier.value.slice(at)}`;
  }
  return `${identifier.value.slice(0, 3)}…${identifier.value.slice(-3)}`;
}
