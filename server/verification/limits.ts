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
  /*
   * Sends to one identifier are counted by who asks (OWASP "Slow down online
   * guessing attacks with device cookies"), so people who start flows for
   * someone else's address cannot use up that person's own codes
   * (docs/verification.md, "Lockout"):
   */
  /** Codes sent to one identifier for one IP address per hour (ASVS V11.1.4). */
  sendsPerIdentifierPerIpPerHour: 5,
  /**
   * Codes sent to one identifier per hour for every requester that is not a known
   * device of its account, whatever their addresses (ASVS V11.1.4: mail bombing,
   * SMS pumping). With maxAttempts, strangers get at most 50 guesses an hour on
   * one account, under ASVS V2.2.1's 100 failed attempts an hour.
   */
  sendsPerIdentifierPerHour: 10,
  /**
   * Codes sent to one identifier per hour for one known device of the account
   * holding it; not counted in sendsPerIdentifierPerHour, so strangers' sends
   * never stop the person's own browsers (ASVS V2.2.1 anti-automation without
   * lockout; NIST SP 800-63B §5.2.2 lets a known device be treated apart).
   */
  sendsPerKnownDevicePerHour: 5,
  /** Codes sent from one IP address per hour, to any identifiers (ASVS V11.1.4); room for a shared NAT. */
  sendsPerIpPerHour: 30,
  /** Code entries from one IP address per hour, right or wrong (ASVS V2.2.1 anti-automation, 100 an hour). */
  verifyAttemptsPerIpPerHour: 100,
  /**
   * Wrong codes for one identifier from requesters that are not known devices of
   * its account, counted over a day and cleared by a correct code. NIST SP
   * 800-63B §5.2.2: no more than 100 consecutive failed attempts on a single account.
   */
  verifyFailuresPerIdentifierPerDay: 100,
  /**
   * Wrong codes for one identifier from one known device of its account, over a
   * day, cleared by a correct code (NIST SP 800-63B §5.2.2, counted per device so
   * that strangers' failures do not lock the person out).
   */
  verifyFailuresPerKnownDevicePerDay: 100,
} as const;

/** Sign-in by password (server/interactions/login, server/verification/password-attempts.ts). */
export const PASSWORD_LIMITS = {
  /**
   * Wrong passwords for one identifier from browsers that are not known devices
   * of its account, counted over a day and cleared by a correct password. NIST SP
   * 800-63B §5.2.2: no more than 100 consecutive failed attempts on a single
   * account. With the waits below, reaching 100 takes about 21 hours.
   */
  failuresPerIdentifierPerDay: 100,
  /**
   * Wrong passwords for one identifier from unknown browsers before each further
   * try must wait (OWASP ASVS V2.2.1: anti-automation, "soft" lockout; OWASP
   * Authentication Cheat Sheet, "Account Lockout": a growing delay instead of a
   * lock an attacker can trigger at will).
   */
  freeFailuresPerIdentifier: 5,
  /** After n ≥ freeFailuresPerIdentifier failures, the next try waits 2^(n − 5) s, at most this (15 min; ASVS V2.2.1). */
  maxWaitSeconds: 900,
  /**
   * Password tries for one identifier from unknown browsers checked at the same
   * time while under freeFailuresPerIdentifier failures; from then on one at a
   * time. Tries are counted as they start, so a burst of concurrent guesses gets
   * at most this many past a check that has not yet seen their failures (ASVS
   * V2.2.1), while a few sign-ins at once (scripts, several tabs) still pass.
   */
  triesAtOncePerIdentifier: 10,
  /** The longest a try counts as running (a try that never ends, e.g. a crash, frees its place after this). */
  tryHoldSeconds: 10,
  /**
   * Wrong passwords for one identifier from one known device of its account, over
   * a day, cleared by a correct password (NIST SP 800-63B §5.2.2 per device;
   * OWASP device cookies: the person's own browser is not locked out by strangers).
   */
  failuresPerKnownDevicePerDay: 100,
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
