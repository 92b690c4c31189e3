// The consent prompt: what the client asks for, Allow or Deny.
import type { Router, RouterMiddleware } from '@koa/router';
import { readForm, field } from '../../http/read-form.ts';
import { InteractionExpired, NotFound } from '../../errors/index.ts';
import { consentPage } from '../../../views/consent.ts';
import { onlyOidcScopes } from '../../oidc/oidc-scopes.ts';
import { renderHtml, type InteractionTools } from '../interaction.ts';
import { forgetConsent, rememberConsent } from '../../consents/remembered.ts';
import type { InteractionDeps } from '../deps.ts';
import { findResource } from '../../rbac/resources.ts';
import type { ScopeApi } from '../../../views/scope-words.ts';
import { findAccountById } from '../../accounts/queries.ts';
import { maskIdentifier } from '../../accounts/identifiers.ts';

interface Missing {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export function consentRoutes(router: Router, deps: Pick<InteractionDeps, 'db' | 'config'>, tools: InteractionTools): RouterMiddleware {
  /**
   * What the page lists: the OpenID Connect scopes asked for, then each API's scopes with
   * that API's name. API scopes the person's roles do not grant are not resource scopes
   * here, and not OIDC scopes either: not shown.
   */
  async function shownScopes(missing: Missing): Promise<{ scope: string; api?: ScopeApi }[]> {
    const own = new Set([deps.config.appApiResource, deps.config.adminApiResource]);
    const oidc = onlyOidcScopes(missing.missingOIDCScope ?? []).map((scope): { scope: string; api?: ScopeApi } => ({ scope }));
    const apis = await Promise.all(Object.entries(missing.missingResourceScopes ?? {}).map(async ([indicator, scopes]) => {
      const api = { name: (await findResource(deps.db, indicator))?.name ?? '', own: own.has(indicator) };
      return scopes.map((scope) => ({ scope, api }));
    }));
    // Two APIs without names that share a scope name would read the same: listed once.
    return [...new Map([...oidc, ...apis.flat()].map((item) => [`${item.scope} ${item.api?.name ?? ''}`, item])).values()];
  }

  /** The signed-in person as the consent page names them: the email, else the phone, masked as on the code page. */
  async function signedInPerson(accountId: string | undefined): Promise<string | undefined> {
    const account = accountId ? await findAccountById(deps.db, accountId) : undefined;
    if (account?.email) return maskIdentifier({ kind: 'email', value: account.email });
    if (account?.phone) return maskIdentifier({ kind: 'phone', value: account.phone });
    return undefined;
  }

  const showConsent: RouterMiddleware = async (ctx) => {
    const interaction = await tools.load(ctx);
    if (interaction.prompt.name !== 'consent') throw new NotFound('this sign-in step is not available');
    const missing = interaction.prompt.details as Missing;
    const who = await signedInPerson(interaction.session?.accountId);
    renderHtml(ctx, 200, consentPage({
      ...tools.frame(ctx, interaction),
      action: `${tools.base(interaction)}/confirm`,
      abortAction: `${tools.base(interaction)}/abort`,
      csrf: tools.csrf.tokenFor(interaction.uid),
      ...(await tools.clientShown(ctx, interaction)),
      // "Not you?": this interaction's sign-in page (server/interactions/login/routes.ts, ?switch).
      signedInAs: who ? { who, switchTo: `${tools.base(interaction)}?switch` } : undefined,
      scopes: await shownScopes(missing),
      resources: Object.keys(missing.missingResourceScopes ?? {}),
    }));
  };

  router.post('/:uid/confirm', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) throw new InteractionExpired();
    const missing = interaction.prompt.details as Missing;
    const provider = tools.provider();
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: interaction.session.accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw new InteractionExpired();
    // Every missing one is recorded as encountered (or oidc-provider asks again); only OIDC ones are shown above.
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    // Remembered for this person and client, so another browser is not asked again (server/oidc/existing-grant.ts).
    await rememberConsent(deps.db, interaction.session.accountId, grant.clientId!, {
      scopes: missing.missingOIDCScope ?? [],
      claims: missing.missingOIDCClaims ?? [],
      resources: missing.missingResourceScopes ?? {},
    });
    await tools.finish(ctx, { consent: interaction.grantId ? {} : { grantId } }, true);
  });

  router.post('/:uid/abort', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    // Declining consent withdraws what the person allowed this client before: the next request asks again.
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name === 'consent' && accountId) await forgetConsent(deps.db, accountId, String(interaction.params.client_id));
    await tools.finish(ctx, { error: 'access_denied', error_description: 'the person declined or cancelled the sign-in' });
  });

  return showConsent;
}
