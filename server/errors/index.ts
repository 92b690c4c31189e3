// Typed application errors. Business code throws these; only
// server/errors/http.ts turns them into responses.

export class AppError extends Error {
  /** Stable machine-readable code, sent as the OAuth-style `error` member. */
  readonly code: string;
  readonly status: number;
  /** Safe to show to the client. */
  readonly description: string;

  constructor(status: number, code: string, description: string) {
    super(description);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.description = description;
  }
}

export class InvalidRequest extends AppError {
  constructor(description = 'the request is malformed') {
    super(400, 'invalid_request', description);
  }
}

export class NotFound extends AppError {
  constructor(description = 'the page or resource does not exist') {
    super(404, 'not_found', description);
  }
}

/** RFC 9110 §15.5.6: the resource exists, but not for this method; `allowed` is the Allow header sent with it. */
export class MethodNotAllowed extends AppError {
  constructor(allowed: string) {
    super(405, 'invalid_request', allowed ? `this method is not allowed here; allowed: ${allowed}` : 'this method is not allowed here');
  }
}

/** RFC 9110 §15.6.2: a method the server does not implement anywhere. */
export class MethodNotImplemented extends AppError {
  constructor() {
    super(501, 'invalid_request', 'the server does not support this request method');
  }
}

// OAuth has no code of its own for this; invalid_request (RFC 6749 §5.2) with 413.
export class PayloadTooLarge extends AppError {
  constructor(description = 'the request body is too large') {
    super(413, 'invalid_request', description);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(description = 'the request body must be application/x-www-form-urlencoded') {
    super(415, 'unsupported_media_type', description);
  }
}

export class InvalidCredentials extends AppError {
  constructor() {
    super(401, 'invalid_credentials', 'the email or password is not correct');
  }
}

export class InteractionExpired extends AppError {
  constructor() {
    super(400, 'interaction_expired', 'this sign-in page has expired; start again from the application');
  }
}

/**
 * An access token refused at one of our APIs (RFC 6750 §3): 401 without a usable
 * token, 403 for one that lacks the scope or whose holder may not do this.
 * `challenge` is the WWW-Authenticate value the mapping in http.ts sends.
 */
export class TokenRefused extends AppError {
  readonly challenge: string;
  constructor(status: 401 | 403, code: string, description: string, challenge: string) {
    super(status, code, description);
    this.challenge = challenge;
  }
}

/** Authenticated, but not allowed to do this (RFC 9110 §15.5.4). */
export class Forbidden extends AppError {
  constructor(description = 'you may not do this') {
    super(403, 'forbidden', description);
  }
}

export class Conflict extends AppError {
  /** The id of what is already there, when the caller may use it (the admin API's 409 bodies). */
  readonly existingId: string | undefined;
  constructor(description: string, existingId?: string) {
    super(409, 'conflict', description);
    this.existingId = existingId;
  }
}

/**
 * Retry-After (seconds) of a 503: a lost store is usually back within this, since the
 * clients reconnect at least every 2 s (server/redis/connect.ts; PostgreSQL per query).
 */
export const RETRY_UNAVAILABLE_AFTER_SECONDS = 2;

/** PostgreSQL or Redis did not answer (server/errors/connection.ts); the client may try again. */
export class ServiceUnavailable extends AppError {
  readonly retryAfter: number;
  constructor(description = 'a backing service is not answering; try again shortly') {
    super(503, 'temporarily_unavailable', description);
    this.retryAfter = RETRY_UNAVAILABLE_AFTER_SECONDS;
  }
}

/** Mail or SMS could not be handed to its transport (SMTP down, webhook 5xx or timeout). */
export class DeliveryFailed extends AppError {
  constructor(description = 'we could not send the message; try again in a moment') {
    super(503, 'delivery_failed', description);
  }
}

/** A limit from server/verification/limits.ts was reached; retry after `retryAfter` seconds. */
export class RateLimited extends AppError {
  readonly retryAfter: number;
  constructor(retryAfter: number, description = 'too many attempts; wait a little and try again') {
    super(429, 'rate_limited', description);
    this.retryAfter = Math.max(1, Math.ceil(retryAfter));
  }
}

export class CodeInvalid extends AppError {
  readonly attemptsLeft: number;
  constructor(attemptsLeft: number) {
    super(400, 'code_invalid', 'the code is not correct');
    this.attemptsLeft = attemptsLeft;
  }
}

export class CodeExpired extends AppError {
  constructor() {
    super(400, 'code_expired', 'the code has expired; ask for a new one');
  }
}

export class CodeAttemptsExhausted extends AppError {
  constructor() {
    super(400, 'code_attempts_exhausted', 'too many wrong codes; ask for a new one');
  }
}
