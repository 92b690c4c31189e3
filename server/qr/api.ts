// QR approval for first-party mobile apps (as Telegram's and Discord's QR
// login): the app scans the desktop's QR, then calls these with an access
// token for ISSUER/api carrying the `qr-login` scope (RFC 6750 bearer).
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError, InvalidRequest } from '../errors/index.ts';
import { describeUserAgent } from './user-agent.ts';
import type { InteractionDeps } from '../interactions/deps.ts';
import { isFirstParty } from '../oidc/operator-metadata.ts';
import { challenge, presentedToken, senderProblem } from '../oidc/dpop.ts';

class InsufficientScope extends AppError {
  constructor() {
    super(403, 'insufficient_scope', 'the access token needs the qr-login scope for this API');
  }
}

class InvalidToken extends AppError {
  constructor() {
    super(401, 'invalid_token', 'a valid bearer access token is required');
  }
}

/** The QR's token: the last path segment of the scanned URL, or the bare token. */
function tokenOf(value: unknown): string {
  if (typeof value !== 'string' || value.length > 512) throw new InvalidRequest('qr must be the scanned URL or its token');
  return value.split('/').pop()!;
}

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw new InvalidRequest('the body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 4096) throw new InvalidRequest('the body is too large');
    chunks.push(chunk);
  }
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
    return parsed as Record<string, unknown>;
  } catch {
    throw new InvalidRequest('the body is not a JSON object');
  }
}

export function qrAppApi(deps: InteractionDeps) {
  const router = new Router({ prefix: '/api/qr' });

  async function caller(ctx: Context): Promise<string> {
    const token = presentedToken(ctx.get('authorization'));
    const found = token ? await deps.provider.accessTokens.active(token.token) : undefined;
    if (!token || !found?.claims.sub || !found.grant) {
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new InvalidToken();
    }
    // A DPoP-bound token needs its proof here too (RFC 9449 §7.1); a plain one the Bearer scheme.
    const jkt = (found.claims.cnf as { jkt?: string } | undefined)?.jkt;
    const replay = (deps.provider.current as unknown as { ReplayDetection: { unique(iss: string, jti: string, exp: number): Promise<boolean> } }).ReplayDetection;
    const problem = await senderProblem({
      presented: token,
      jkt,
      proof: ctx.get('dpop') || undefined,
      method: ctx.method,
      url: `${deps.config.issuer}${ctx.path}`,
      unique: (jti, expiresAt) => replay.unique(found.claims.client_id, jti, expiresAt),
    });
    if (problem) {
      ctx.set('WWW-Authenticate', challenge(token, jkt, problem));
      throw new AppError(401, problem.error, problem.description);
    }
    const audience = [found.claims.aud ?? []].flat();
    if (!audience.includes(deps.config.appApiResource) || !(found.claims.scope ?? '').split(' ').includes('qr-login')) {
      ctx.set('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="qr-login"');
      throw new InsufficientScope();
    }
    // Defence in depth: ISSUER/api is only granted to first-party clients
    // (server/oidc/resource-servers.ts); a client demoted since is refused here.
    if (!isFirstParty(await deps.provider.current.Client.find(found.claims.client_id))) {
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new InvalidToken();
    }
    return found.claims.sub;
  }

  router.post('/scan', async (ctx) => {
    const accountId = await caller(ctx);
    const login = await deps.qr.scan(tokenOf((await readJson(ctx)).qr), `account:${accountId}`);
    const client = await deps.provider.current.Client.find(login.clientId);
    const device = describeUserAgent(login.desktopUserAgent);
    ctx.body = {
      client_name: client?.clientName ?? login.clientId,
      browser: device.browser,
      system: device.system,
      ip: login.desktopIp,
      requested_at: login.createdAt.toISOString(),
      expires_at: login.expiresAt.toISOString(),
    };
  });

  router.post('/approve', async (ctx) => {
    const accountId = await caller(ctx);
    await deps.qr.approve(tokenOf((await readJson(ctx)).qr), `account:${accountId}`, accountId);
    ctx.body = { state: 'approved' };
  });

  router.post('/deny', async (ctx) => {
    const accountId = await caller(ctx);
    await deps.qr.deny(tokenOf((await readJson(ctx)).qr), `account:${accountId}`);
    ctx.body = { state: 'denied' };
  });

  return router;
}
