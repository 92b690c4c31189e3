// Every limit on one-time codes, in one place. docs/verification.md lists the
// same table for people. Standards cited:
//   NIST SP 800-63B (rev. 3) §5.1.3.2 Out-of-Band Verifiers, §5.2.2 Rate Limiting
//   OWASP ASVS 4.0.3 V2.2.1 (anti-automation), V2.7 (out-of-band verifier),
//   V11.1.4 (anti-automation against excessive calls)

export const CODE_LIMITS = {
  /**
   * Length of a code. NIST SP 800-63B §5.1.3.2 and ASVS V2.7.6 ask for at least
   * 20 bits from a CSPRNG; 6 digits give log2(10^6) = 19.93 bits, which ASVS
   * V2.7.6 names as sufficient and NIST treats as meeting the 20 bits.
   */
  digits: 6,
  /** Lifetime of a code. ASVS V2.7.2: out-of-band codes expire after at most 10 minutes; we take half. */
  ttlSeconds: 300,
  /**
   * Wrong entries a code survives. A code has under 64 bits, so NIST SP 800-63B
   * §5.1.3.2 requires rate limiting (§5.2.2): 5 tries make a guess succeed with
   * probability 5 / 10^6 per code.
   */
  maxAttempts: 5,
  /** Least time between two sends for one flow: mail bombing and SMS cost (ASVS V11.1.4). */
  resendAfterSeconds: 60,
  /**
   * Codes sent to one email address or phone number per hour (ASVS V11.1.4:
   * SMS pumping, mail bombing). With maxAttempts this also caps guesses on one
   * account at 25 an hour, under ASVS V2.2.1's 100 failed attempts an hour.
   */
  sendsPerIdentifierPerHour: 5,
  /** Codes sent from one IP address per hour, to any identifiers (ASVS V11.1.4); room for a shared NAT. */
  sendsPerIpPerHour: 30,
  /** Code entries from one IP address per hour, right or wrong (ASVS V2.2.1 anti-automation, 100 an hour). */
  verifyAttemptsPerIpPerHour: 100,
  /**
   * Code entries for one identifier without a success in between, counted over
   * a day and cleared by a correct code. NIST SP 800-63B §5.2.2: no more than
   * 100 consecutive failed attempts on a single account.
   */
  verifyFailuresPerIdentifierPerDay: 100,
} as const;

/** Sign-in by password (server/interactions/login). */
export const PASSWORD_LIMITS = {
  /**
   * Wrong passwords for one identifier without a success in between, counted
   * over a day and cleared by a correct password. NIST SP 800-63B §5.2.2: no
   * more than 100 consecutive failed attempts on a single account.
   */
  failuresPerIdentifierPerDay: 100,
  /** Wrong passwords from one IP address per hour, any accounts (ASVS V2.2.1 anti-automation: credential stuffing). */
  failuresPerIpPerHour: 100,
} as const;

export const HOUR_SECONDS = 3600;
export const DAY_SECONDS = 86_400;

/**
 * Device flow user codes (RFC 8628 §5.1): 8 characters of a 20-letter alphabet
 * give 20^8 ≈ 2.6·10^10 codes (≈ 34.6 bits, the example of §6.1). Wrong entries
 * are counted before they are checked, per IP and globally, so guessing any
 * live code stays improbable even with many devices waiting. The arithmetic is
 * in docs/qr.md ("Guessing user codes").
 */
export const DEVICE_LIMITS = {
  /** Wrong user codes from one IP address per 15 minutes (§5.1). */
  failuresPerIpPer15Minutes: 10,
  /**
   * Wrong user codes from everyone per hour (§5.1: a global limit too). Over it,
   * only addresses still within freshAddressTriesOverGlobalLimit may try.
   */
  failuresGlobalPerHour: 1000,
  /**
   * Tries (counted as per failuresPerIpPer15Minutes) an address still gets while
   * the global limit is exceeded: a flood from many addresses must not lock
   * everyone out (a denial of service); 3 leave room for a typo or two before
   * the right code, and cut a flooding address from 40 guesses an hour to 12.
   */
  freshAddressTriesOverGlobalLimit: 3,
} as const;
