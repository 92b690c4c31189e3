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

export class Conflict extends AppError {
  constructor(description: string) {
    super(409, 'conflict', description);
  }
}

export class ServiceUnavailable extends AppError {
  constructor(description = 'a backing service is not answering; try again shortly') {
    super(503, 'temporarily_unavailable', description);
  }
}
