// DPoP (RFC 9449) where Enot ID answers for JWT access tokens itself (userinfo,
// the first-party API): oidc-provider checks proofs only for the tokens it
// finds in storage, and JWT access tokens are not stored. A token bound to a key
// (`cnf.jkt`, §6.1) is accepted only with the `DPoP` scheme and a fresh proof by
// that key for this request (§7.1); an unbound token only with `Bearer`.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';

/** The algorithms oidc-provider accepts for proofs (its `dPoPSigningAlgValues` default), advertised in discovery. */
export const DPOP_ALGS = ['ES256', 'Ed25519', 'EdDSA'];

/** How far a proof's `iat` may be from now (§11.1); oidc-provider's own window. */
const IAT_WINDOW_SECONDS = 300;

/** The key a token is bound to (`cnf.jkt`, RFC 9449 §6.1), or undefined for an unbound token. */
export function boundKey(claims: JWTPayload): string | undefined {
  const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

type ReplayStore = { unique(iss: string, jti: string, exp: number): Promise<boolean> };

/**
 * oidc-provider's DPoP replay store (its ReplayDetection model, kept through our
 * adapters, so shared by every process); not in its published types.
 */
export function replayStore(provider: Provider): ReplayStore {
  return (provider as unknown as { ReplayDetection: ReplayStore }).ReplayDetection;
}

export interface PresentedToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** RFC 6750 §2.1 and RFC 9449 §7.1: `Authorization: Bearer|DPoP <token68>`. */
export function presentedToken(authorization: string | undefined): PresentedToken | undefined {
  const match = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}

export interface SenderCheck {
  presented: PresentedToken;
  /** `cnf.jkt` of the token, when bound. */
  jkt: string | undefined;
  /** The `DPoP` header as received. */
  proof: string | undefined;
  method: string;
  /** The request's URL as the client addressed it, from ISSUER (no query or fragment). */
  url: string;
  /** True the first time a proof's jti is seen (shared storage, so across processes). */
  unique(jti: string, expiresAt: number): Promise<boolean>;
}

export interface SenderProblem {
  error: 'invalid_token' | 'invalid_dpop_proof';
  description: string;
}

/** Why the token may not be used as presented, or undefined when it may. */
export async function senderProblem(check: SenderCheck): Promise<SenderProblem | undefined> {
  const { presented, jkt } = check;
  if (!jkt) {
    // §7.1: the DPoP scheme is for bound tokens only.
    return presented.scheme === 'Bearer' ? undefined : { error: 'invalid_token', description: 'the access token is not DPoP-bound; use the Bearer scheme' };
  }
  // §7.2: a bound token presented as Bearer must be refused, or the binding means nothing.
  if (presented.scheme !== 'DPoP') return { error: 'invalid_token', description: 'the access token is DPoP-bound; present it with the DPoP scheme and a proof' };
  const invalid = (description: string): SenderProblem => ({ error: 'invalid_dpop_proof', description });
  // §4.3 check 1: exactly one proof (Node joins repeated headers with ", "; a JWT has no comma).
  if (!check.proof || check.proof.includes(',')) return invalid('exactly one DPoP proof is required');
  let payload;
  let jwk;
  try {
    ({ payload, protectedHeader: { jwk } } = await jwtVerify(check.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS }));
  } catch {
    return invalid('the DPoP proof is not a valid dpop+jwt signed by its embedded key');
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.jti !== 'string' || !payload.jti) return invalid('the DPoP proof has no jti');
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > IAT_WINDOW_SECONDS) return invalid('the DPoP proof is not recent');
  if (payload.htm !== check.method) return invalid('the DPoP proof is for another method');
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) {
    htu.search = '';
    htu.hash = '';
  }
  if (htu?.href !== new URL(check.url).href) return invalid('the DPoP proof is for another URL');
  if (payload.ath !== createHash('sha256').update(presented.token).digest('base64url')) return invalid('the DPoP proof is for another access token');
  if (!jwk || (await calculateJwkThumbprint(jwk)) !== jkt) return invalid('the DPoP proof is signed by another key than the token is bound to');
  // §11.1: a proof is used once.
  if (!(await check.unique(payload.jti, payload.iat + IAT_WINDOW_SECONDS))) return invalid('the DPoP proof was already used');
  return undefined;
}

/** The WWW-Authenticate challenge for a refused token (RFC 6750 §3, RFC 9449 §7.1). */
export function challenge(presented: PresentedToken | undefined, jkt: string | undefined, problem: SenderProblem): string {
  const dpop = presented?.scheme === 'DPoP' || jkt !== undefined;
  const description = problem.description.replaceAll('"', "'");
  return dpop
    ? `DPoP error="${problem.error}", error_description="${description}", algs="${DPOP_ALGS.join(' ')}"`
    : `Bearer error="${problem.error}", error_description="${description}"`;
}
