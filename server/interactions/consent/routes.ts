// The consent prompt: what the client asks for, Allow or Deny.
import type { Router, RouterMiddleware } from '@koa/router';
import { readForm, field } from '../../http/read-form.ts';
import { InteractionExpired, NotFound } from '../../errors/index.ts';
import { consentPage } from '../../../views/consent.ts';
import { onlyOidcScopes } from '../../oidc/oidc-scopes.ts';
import { renderHtml, type InteractionTools } from '../interaction.ts';

interface Missing {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export function consentRoutes(router: Router, tools: InteractionTools): RouterMiddleware {
  const showConsent: RouterMiddleware = async (ctx) => {
    const interaction = await tools.load(ctx);
    if (interaction.prompt.name !== 'consent') throw new NotFound('this sign-in step is not available');
    const missing = interaction.prompt.details as Missing;
    renderHtml(ctx, 200, consentPage({
      ...tools.frame(ctx, interaction),
      action: `${tools.base(interaction)}/confirm`,
      abortAction: `${tools.base(interaction)}/abort`,
      csrf: tools.csrf.tokenFor(interaction.uid),
      clientName: await tools.clientName(ctx, interaction),
      // API scopes the person's roles do not grant are not resource scopes here, and not OIDC scopes either: not shown.
      scopes: [...new Set([...onlyOidcScopes(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()])],
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
    await tools.finish(ctx, { consent: interaction.grantId ? {} : { grantId } }, true);
  });

  router.post('/:uid/abort', async (ctx) => {
    const interaction = await tools.load(ctx);
    const form = await readForm(ctx);
    tools.csrf.check(interaction.uid, field(form, 'csrf'));
    await tools.finish(ctx, { error: 'access_denied', error_description: 'the person declined or cancelled the sign-in' });
  });

  return showConsent;
}
