// NIST SP 800-63B §5.1.1.2 (memorized secrets): at least 8 characters, at
// least 64 accepted, no composition rules, and no value that is commonly used,
// expected or compromised: one of zxcvbn's list of about 49,000 most common
// passwords (MIT, compared case-insensitively), repetitive or sequential
// characters ("aaaaaa", "1234abcd"), or context-specific words: the name of the
// service, its host, the person's own email and phone, and derivatives of them.
import { InvalidRequest } from '../errors/index.ts';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

let common: Promise<Set<string>> | undefined;
/**
 * Loaded when a password is first set, not at start: the list and its package
 * hold over 10 MB that a server which only signs people in never needs.
 */
function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set(dictionary['passwords-common'].map((p) => p.toLowerCase())),
  );
  return common;
}

export type PasswordIssue = 'too_short' | 'too_long' | 'common' | 'repetitive' | 'sequential' | 'context';

/** What the caller knows about whose password this is (§5.1.1.2 "context-specific words"). */
export interface PasswordContext {
  /** ISSUER: its host names the service as much as the product does. */
  issuer?: string;
  /** The person's email addresses and phone numbers (E.164). */
  identifiers?: ReadonlyArray<string | null | undefined>;
}

/** The product's own name, in the forms people type it (Enot ID; "енот" is the Russian word). */
const SERVICE_WORDS = ['enotid', 'enot', 'енот'];

const characters = (value: string) => [...value];

/** One group repeated ("aaaaaaaa", "12341234", eight spaces), or at most two different characters. */
function isRepetitive(value: string): boolean {
  const lower = value.toLowerCase();
  return /^(.+?)\1+$/su.test(lower) || new Set(characters(lower)).size <= 2;
}

/** The step from one character to the next; digits wrap (…7890…). */
function step(from: string, to: string): number {
  const a = from.codePointAt(0)!;
  const b = to.codePointAt(0)!;
  if (/\d/.test(from) && /\d/.test(to)) {
    const d = (b - a + 10) % 10;
    return d === 9 ? -1 : d;
  }
  return b - a;
}

/** At most two runs going up or down by one ("12345678", "zyxwvuts", "1234abcd"). */
function isSequential(value: string): boolean {
  const chars = characters(value.toLowerCase());
  let runs = 1;
  let direction: number | undefined;
  for (let i = 1; i < chars.length; i++) {
    const s = step(chars[i - 1]!, chars[i]!);
    if ((s === 1 || s === -1) && (direction === undefined || direction === s)) {
      direction = s;
      continue;
    }
    runs++;
    direction = undefined;
  }
  return runs <= 2;
}

/** Letters and digits only, lower case: "Enot-ID 2025!" and "enotid2025" are the same guess. */
const letters = (value: string) => value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** The context words, longest first (so "enotid" goes before "enot"). */
function contextWords(context: PasswordContext): string[] {
  const words = new Set(SERVICE_WORDS);
  const add = (word: string, min: number) => {
    const normalized = letters(word);
    if ([...normalized].length >= min) words.add(normalized);
  };
  const host = context.issuer ? URL.parse(context.issuer)?.hostname : undefined;
  if (host && /[a-z]/i.test(host)) {
    const labels = host.split('.');
    // The top-level domain says nothing about the service.
    for (const label of labels.length > 1 ? labels.slice(0, -1) : labels) {
      add(label, 4);
      for (const part of label.split('-')) add(part, 4);
    }
  }
  for (const identifier of context.identifiers ?? []) {
    if (!identifier) continue;
    if (identifier.includes('@')) {
      const local = identifier.slice(0, identifier.lastIndexOf('@')).split('+')[0]!;
      add(local, 3);
      for (const part of local.split(/[._-]/)) add(part, 4);
    } else {
      // A phone number: all of it, and every tail of 7 digits or more (the number without its country code).
      const digits = identifier.replace(/\D/g, '');
      for (let start = 0; digits.length - start >= 7; start++) words.add(digits.slice(start));
    }
  }
  return [...words].sort((a, b) => b.length - a.length);
}

async function isWeak(value: string): Promise<boolean> {
  return characters(value).length < PASSWORD_MIN_LENGTH || isRepetitive(value) || isSequential(value) || (await commonPasswords()).has(value.toLowerCase());
}

/** A context word with little else around it: what is left once the words are taken out would be refused on its own. */
async function isBuiltOnContext(password: string, context: PasswordContext): Promise<boolean> {
  const plain = letters(password);
  let rest = plain;
  for (const word of contextWords(context)) rest = rest.replaceAll(word, '');
  return rest !== plain && isWeak(rest);
}

/** Why a new password is refused (pages translate it), or undefined when it is acceptable. */
export async function newPasswordIssue(password: string, context: PasswordContext = {}): Promise<PasswordIssue | undefined> {
  // Length in code points (NIST counts characters; an emoji is one).
  const length = characters(password).length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  if (isRepetitive(password)) return 'repetitive';
  if (isSequential(password)) return 'sequential';
  if ((await commonPasswords()).has(password.toLowerCase())) return 'common';
  if (await isBuiltOnContext(password, context)) return 'context';
  return undefined;
}

/** The same in English, for the CLI and logs. */
export async function newPasswordProblem(password: string, context: PasswordContext = {}): Promise<string | undefined> {
  const issue = await newPasswordIssue(password, context);
  if (issue === 'too_short') return `use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (issue === 'too_long') return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (issue === 'common') return 'this password is one of the most common ones; choose another';
  if (issue === 'repetitive') return 'this password repeats a character or a group of characters; choose another';
  if (issue === 'sequential') return 'this password is a simple sequence such as 1234 or abcd; choose another';
  if (issue === 'context') return 'this password is built on the name of this service, or on your email or phone; choose another';
  return undefined;
}

export async function checkNewPassword(password: string, context: PasswordContext = {}): Promise<void> {
  const problem = await newPasswordProblem(password, context);
  if (problem) throw new InvalidRequest(`password: ${problem}`);
}
