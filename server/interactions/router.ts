// Browser flows under /interaction/:uid, as oidc-provider hands them over:
// sign in (by code or password), register, recover, consent. Plain HTML forms
// that work without JavaScript.
import Router from '@koa/router';
import { interactionTools } from './interaction.ts';
import { loginRoutes } from './login/routes.ts';
import { consentRoutes } from './consent/routes.ts';
import { flowRoutes } from './flows/routes.ts';
import { qrRoutes } from './qr/routes.ts';
import type { InteractionDeps } from './deps.ts';

export function interactionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction' });
  const tools = interactionTools(deps);
  const showConsent = consentRoutes(router, deps, tools);
  flowRoutes(router, deps, tools);
  qrRoutes(router, deps, tools);
  loginRoutes(router, deps, tools, showConsent);
  return router;
}
