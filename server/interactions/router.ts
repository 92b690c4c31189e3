// Browser flows under /interaction/:uid, as oidc-provider hands them over:
// sign in (login prompt) and consent. Plain HTML forms, no JavaScript needed.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import { errors as oidcErrors, type InteractionResults } from 'oidc-provider';
import { readForm, field } from '../http/read-form.ts';
import { csrfTokens } from './csrf.ts';
import { InteractionExpired, NotFound } from '../errors/index.ts';
import { findAccountByEmail } from '../accounts/queries.ts';
import { verifyPassword } from '../accounts/passwords.ts';
import { normalizeEmail } from '../accounts/identifiers.ts';
import { loginPage } from '../../views/login.ts';
import { consentPage } from '../../views/consent.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The provider is read on every request: it is replaced when signing keys rotate. */
export function interactionRouter(deps: { provider: { current: Provider }; db: Knex; csrfSecret: string }) {
  const { db } = deps;
  const provider = () => deps.provider.current;
  const csrf = csrfTokens(deps.csrfSecret);
  const router = new Router({ prefix: '/interaction' });

  async function details(ctx: Context): Promise<Details> {
    try {
      const found = await provider().interactionDetails(ctx.req, ctx.res);
      if (found.uid !== ctx.params.uid) throw new InteractionExpired();
      return found;
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound) throw new InteractionExpired();
      throw err;
    }
  }

  async function clientName(interaction: Details): Promise<string> {
    const client = await provider().Client.find(String(interaction.params.client_id));
    return client?.clientName ?? String(interaction.params.client_id);
  }

  async function finish(ctx: Context, result: InteractionResults, merge = false): Promise<void> {
    const redirectTo = await provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  }

  function renderLogin(ctx: Context, interaction: Details, name: string, extra: { email?: string; error?: string } = {}) {
    ctx.type = 'html';
    ctx.body = loginPage({
      action: `/interaction/${interaction.uid}/login`,
      csrf: csrf.tokenFor(interaction.uid),
      clientName: name,
      ...extra,
    });
  }

  router.get('/:uid', async (ctx) => {
    const interaction = await details(ctx);
    ctx.set('Cache-Control', 'no-store');
    const name = await clientName(interaction);
    if (interaction.prompt.name === 'login') {
      renderLogin(ctx, interaction, name);
      return;
    }
    if (interaction.prompt.name === 'consent') {
      const missing = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      ctx.type = 'html';
      ctx.body = consentPage({
        action: `/interaction/${interaction.uid}/confirm`,
        abortAction: `/interaction/${interaction.uid}/abort`,
        csrf: csrf.tokenFor(interaction.uid),
        clientName: name,
        scopes: [...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()],
        resources: Object.keys(missing.missingResourceScopes ?? {}),
      });
      return;
    }
    throw new NotFound('this sign-in step is not available');
  });

  router.post('/:uid/login', async (ctx) => {
    const interaction = await details(ctx);
    const form = await readForm(ctx);
    csrf.check(interaction.uid, field(form, 'csrf'));
    const typedEmail = field(form, 'email', 254);
    const password = field(form, 'password', 1024);
    let email: string | undefined;
    try {
      email = normalizeEmail(typedEmail);
    } catch {
      email = undefined;
    }
    const account = email ? await findAccountByEmail(db, email) : undefined;
    // Always verify, so a missing account costs the same time as a wrong password.
    const passwordMatches = await verifyPassword(account?.password_hash, password);
    if (!account || !passwordMatches || account.status !== 'active') {
      ctx.status = 401;
      renderLogin(ctx, interaction, await clientName(interaction), {
        email: typedEmail,
        error: 'The email or password is not correct.',
      });
      return;
    }
    await finish(ctx, { login: { accountId: account.id, amr: ['pwd'] } });
  });

  router.post('/:uid/confirm', async (ctx) => {
    const interaction = await details(ctx);
    const form = await readForm(ctx);
    csrf.check(interaction.uid, field(form, 'csrf'));
    if (interaction.prompt.name !== 'consent' || !interaction.session?.accountId) throw new InteractionExpired();
    const missing = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = interaction.grantId
      ? await provider().Grant.find(interaction.grantId)
      : new (provider().Grant)({ accountId: interaction.session.accountId, clientId: String(interaction.params.client_id) });
    if (!grant) throw new InteractionExpired();
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await finish(ctx, { consent: interaction.grantId ? {} : { grantId } }, true);
  });

  router.post('/:uid/abort', async (ctx) => {
    const interaction = await details(ctx);
    const form = await readForm(ctx);
    csrf.check(interaction.uid, field(form, 'csrf'));
    await finish(ctx, { error: 'access_denied', error_description: 'the person declined or cancelled the sign-in' });
  });

  return router;
}
