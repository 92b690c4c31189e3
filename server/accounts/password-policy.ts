// NIST SP 800-63B §5.1.1.2 (memorized secrets): at least 8 characters, at
// least 64 accepted, no composition rules, and no value from a list of
// commonly used or compromised passwords. The list is zxcvbn's (about 49,000
// most common passwords, MIT), compared case-insensitively.
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

export type PasswordIssue = 'too_short' | 'too_long' | 'common';

/** Why a new password is refused (pages translate it), or undefined when it is acceptable. */
export async function newPasswordIssue(password: string): Promise<PasswordIssue | undefined> {
  // Length in code points (NIST counts characters; an emoji is one).
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  if ((await commonPasswords()).has(password.toLowerCase())) return 'common';
  return undefined;
}

/** The same in English, for the CLI and logs. */
export async function newPasswordProblem(password: string): Promise<string | undefined> {
  const issue = await newPasswordIssue(password);
  if (issue === 'too_short') return `use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (issue === 'too_long') return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (issue === 'common') return 'this password is one of the most common ones; choose another';
  return undefined;
}

export async function checkNewPassword(password: string): Promise<void> {
  const problem = await newPasswordProblem(password);
  if (problem) throw new InvalidRequest(`password: ${problem}`);
}
