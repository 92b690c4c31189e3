// Emails and phone numbers as people type them, turned into the one form we
// store and compare: emails trimmed with the domain lower-cased, phones E.164.
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode } from 'libphonenumber-js/max';
import { InvalidRequest } from '../errors/index.ts';

// RFC 5321 §4.5.3.1: at most 254 characters in a usable address.
const EMAIL = /^[^\s@"<>()[\]\\,;:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export type Identifier = { kind: 'email'; value: string } | { kind: 'phone'; value: string };

/** What is wrong with a typed identifier; the pages say it in the person's language (views/strings.ts). */
export type IdentifierIssue =
  | 'missing' | 'email' | 'phone'
  /** Written without + and not a number of the default region (DEFAULT_PHONE_REGION). */
  | 'phone_country'
  /** After +: no country has that code; too short or too long for the country's numbers. */
  | 'phone_code' | 'phone_short' | 'phone_long';

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

/**
 * E.164 (ITU-T E.164), e.g. +4915123456789; numbers without + are read in `defaultRegion`.
 *
 * A number written with + and its country code needs only the length that country's
 * numbers have (libphonenumber's isPossible): isValid also wants a range known to be
 * assigned, and so refuses the ranges set aside for fiction and tests (+1 555 555 0100,
 * +44 7700 900123), which people and test suites use. A number without + must be valid
 * in the default region, since it could as well be a mistyped number from elsewhere.
 */
export function normalizePhone(input: string, defaultRegion: string): string {
  const trimmed = input.trim();
  if (trimmed.length > 32 || !/^[+\d\s().\-/]+$/.test(trimmed)) throw new InvalidIdentifier('phone', 'enter a valid phone number');
  const region = defaultRegion as CountryCode;
  const international = trimmed.startsWith('+');
  const phone = parsePhoneNumberFromString(trimmed, region);
  if (phone && (phone.isValid() || (international && phone.isPossible()))) return phone.number;
  const problem = phoneProblem(trimmed, region, international);
  throw new InvalidIdentifier(problem.issue, problem.description);
}

/** Every country calling code (1, 44, 49, 7, …). */
const CALLING_CODES = new Set(getCountries().map((country) => getCountryCallingCode(country)));

/** What is wrong with a phone number, in words a person can act on (the pages say it in theirs: views/strings.ts). */
function phoneProblem(typed: string, region: CountryCode, international: boolean): { issue: IdentifierIssue; description: string } {
  const problem = (issue: IdentifierIssue, description: string) => ({ issue, description });
  const length = validatePhoneNumberLength(typed, region);
  const elsewhere = 'for a number from another country, start with + and its country code';
  if (international) {
    const digits = typed.replace(/\D/g, '');
    const code = [1, 2, 3].map((n) => digits.slice(0, n)).find((prefix) => CALLING_CODES.has(prefix));
    if (!/^\+\d/.test(typed)) return problem('phone', 'enter a valid phone number');
    if (length === 'INVALID_COUNTRY' || !code) return problem('phone_code', 'no country has the code this number starts with; check the digits after +');
    if (length === 'TOO_SHORT') return problem('phone_short', `this number is too short for country code +${code}`);
    if (length === 'TOO_LONG') return problem('phone_long', `this number is too long for country code +${code}`);
    return problem('phone', `this is not a phone number with country code +${code}; check the digits`);
  }
  const home = `${region} (+${getCountryCallingCode(region)})`;
  if (length === 'TOO_SHORT') return problem('phone_country', `this number is too short for a phone number in ${home}; ${elsewhere}`);
  if (length === 'TOO_LONG') return problem('phone_country', `this number is too long for a phone number in ${home}; ${elsewhere}`);
  return problem('phone_country', `this is not a phone number in ${home}; ${elsewhere}`);
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
