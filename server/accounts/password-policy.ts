// NIST SP 800-63B §5.1.1.2 (memorized secrets): at least 8 characters, at
// least 64 accepted, no composition rules, and no value from a list of
// commonly used or compromised passwords. The list is zxcvbn's (about 49,000
// most common passwords, MIT), compared case-insensitively.
import { dictionary } from '@zxcvbn-ts/language-common';
import { InvalidRequest } from '../errors/index.ts';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

const common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

export type PasswordIssue = 'too_short' | 'too_long' | 'common';

/** Why a new password is refused (pages translate it), or undefined when it is acceptable. */
export function newPasswordIssue(password: string): PasswordIssue | undefined {
  // Length in code points (NIST counts characters; an emoji is one).
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  if (common.has(password.toLowerCase())) return 'common';
  return undefined;
}

/** The same in English, for the CLI and logs. */
export function newPasswordProblem(password: string): string | undefined {
  const issue = newPasswordIssue(password);
  if (issue === 'too_short') return `use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (issue === 'too_long') return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (issue === 'common') return 'this password is one of the most common ones; choose another';
  return undefined;
}

export function checkNewPassword(password: string): void {
  const problem = newPasswordProblem(password);
  if (problem) throw new InvalidRequest(`password: ${problem}`);
}
