// oidc-provider's `loadExistingGrant`: the grant an authorization request
// starts from, before it decides whether to ask for consent (the consent
// prompt's checks compare the request with this grant).
//
// oidc-provider keeps one grant per browser session and client, so a person
// was asked again in every new browser. Here the grant also carries what the
// person allowed this client before, in any browser (server/consents/):
// - a session's grant gets the remembered scopes and claims the request asks
//   for, so only what is new is asked;
// - a browser without a grant for the client gets one, but only when every
//   requested scope and claim is remembered; otherwise the consent page lists
//   everything the request asks for, as it did for the first consent.
// Never on `prompt=consent` (OIDC Core §3.1.2.1: the OP MUST prompt for
// consent), and only at the authorization endpoint: the device flow keeps its
// consent page (RFC 8628 §5.4, remote phishing). oidc-provider's own checks
// still apply, so a native client is always asked (RFC 8252 §8.6).
//
// The account page's own client is first-party and never asks for consent; nor
// does a first-party client the operator marked `skip_consent`
// (server/oidc/operator-metadata.ts), but for prompt=consent, and for a native
// app, which oidc-provider always asks (its native_client_prompt check).
import type { Knex } from 'knex';
import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import { ACCOUNT_CLIENT_ID } from '../self-service/first-party-client.ts';
import { skipsConsent } from './operator-metadata.ts';
import { rememberedConsent, type Consent } from '../consents/remembered.ts';

/** Claims any authentication releases; the consent prompt never asks for them (lib/helpers/interaction_policy/prompts/consent.js). */
const NON_CONSENT_CLAIMS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/** oidc-provider's routes of an authorization request in a browser: the request, and its resume after an interaction. */
const AUTHORIZATION_ROUTES = new Set(['authorization', 'resume']);

const words = (scope: string) => new Set(scope.split(' ').filter(Boolean));

/** What the request asks for that `grant` does not hold yet (the consent prompt's own comparison). */
function notYetGranted(ctx: KoaContextWithOIDC, grant: Grant | undefined): Consent {
  const { oidc } = ctx;
  const scopes = grant ? words(grant.getOIDCScopeEncountered()) : new Set<string>();
  const claims = new Set(grant?.getOIDCClaimsEncountered() ?? []);
  const resources: Record<string, string[]> = {};
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
    const encountered = grant ? words(grant.getResourceScopeEncountered(indicator)) : new Set<string>();
    const missing = [...oidc.requestParamScopes].filter((scope) => server.scopes.has(scope) && !encountered.has(scope));
    if (missing.length) resources[indicator] = missing;
  }
  return {
    scopes: [...oidc.requestParamOIDCScopes].filter((scope) => !scopes.has(scope)),
    claims: [...oidc.requestParamClaims].filter((claim) => !NON_CONSENT_CLAIMS.has(claim) && !claims.has(claim)),
    resources,
  };
}

/** The part of `wanted` the person allowed before, and whether that is all of it. */
function alreadyAllowed(wanted: Consent, remembered: Consent): { allowed: Consent; all: boolean } {
  const scopes = new Set(remembered.scopes);
  const claims = new Set(remembered.claims);
  const allowed: Consent = {
    scopes: wanted.scopes.filter((s) => scopes.has(s)),
    claims: wanted.claims.filter((c) => claims.has(c)),
    resources: {},
  };
  let all = allowed.scopes.length === wanted.scopes.length && allowed.claims.length === wanted.claims.length;
  for (const [indicator, missing] of Object.entries(wanted.resources)) {
    const known = new Set(remembered.resources[indicator] ?? []);
    const kept = missing.filter((s) => known.has(s));
    if (kept.length) allowed.resources[indicator] = kept;
    if (kept.length !== missing.length) all = false;
  }
  return { allowed, all };
}

function add(grant: Grant, consent: Consent): boolean {
  if (consent.scopes.length) grant.addOIDCScope(consent.scopes.join(' '));
  if (consent.claims.length) grant.addOIDCClaims(consent.claims);
  for (const [indicator, scopes] of Object.entries(consent.resources)) grant.addResourceScope(indicator, scopes.join(' '));
  return consent.scopes.length + consent.claims.length + Object.keys(consent.resources).length > 0;
}

export function loadExistingGrant(db: Knex) {
  return async (ctx: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = ctx;
    const client = oidc.client!;
    const session = oidc.session!;
    // oidc-provider's default: the grant this interaction's consent made, or this session's.
    const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    const grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    const accountId = session.accountId;
    // oidc-provider refuses a grant of another account or client itself (lib/actions/authorization/session.js).
    if (!accountId || (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId))) return grant;

    if (client.clientId === ACCOUNT_CLIENT_ID) {
      if (grant) return grant;
      const created = new oidc.provider.Grant({ clientId: ACCOUNT_CLIENT_ID, accountId });
      created.addOIDCScope('openid');
      await created.save();
      return created;
    }

    if (!AUTHORIZATION_ROUTES.has(oidc.route) || oidc.promptPending('consent')) return grant;
    const wanted = notYetGranted(ctx, grant);
    if (skipsConsent(client)) {
      // Everything asked for, as if the person had allowed it; not remembered as their consent.
      const skipped = grant ?? new oidc.provider.Grant({ clientId: client.clientId, accountId });
      if (add(skipped, wanted) || !grant) await skipped.save();
      return skipped;
    }
    const { allowed, all } = alreadyAllowed(wanted, await rememberedConsent(db, accountId, client.clientId));
    if (grant) {
      // Saved, so the consent page (which continues this grant) and the code see it.
      if (add(grant, allowed)) await grant.save();
      return grant;
    }
    if (!all) return undefined;
    const created = new oidc.provider.Grant({ clientId: client.clientId, accountId });
    if (!add(created, allowed)) return undefined;
    await created.save();
    return created;
  };
}
