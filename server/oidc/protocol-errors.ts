// oidc-provider's own error classes, so errors we raise inside its routes
// carry the exact OAuth codes (RFC 6749 §5.2, RFC 8707 §2, RFC 6750 §3.1).
import { errors } from 'oidc-provider';

export const { InvalidTarget, InvalidToken, InvalidRequest, UnsupportedTokenType } = errors;
