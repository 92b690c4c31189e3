// NIST SP 800-63B §5.1.1.2 (memorized secrets): at least 8 characters, at
// least 64 accepted, no composition rules, and no value from a list of
// commonly used or compromised passwords. The list is zxcvbn's (about 49,000
// most common passwords, MIT), compared case-insensitively.
import { dictionary } from '@zxcvbn-ts/language-common';
import { InvalidRequest } from '../errors/index.ts';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

const common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

/** The reason a new password is refused, or undefined when it is acceptable. */
export function newPasswordProblem(password: string): string | undefined {
  // Length in code points (NIST counts characters; an emoji is one).
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `use at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (common.has(password.toLowerCase())) return 'this password is one of the most common ones; choose another';
  return undefined;
}

export function checkNewPassword(password: string): void {
  const problem = newPasswordProblem(password);
  if (problem) throw new InvalidRequest(`password: ${problem}`);
}
