// A relying party to copy (issue 12 §2): a server-side web app that signs people in
// with Enot ID through openid-client 6, shows the ID token's claims, calls the
// orders API (examples/orders-api/) with its access token, refreshes the tokens
// and signs out.
//
//   GET  /          the page: a Sign in link, or the claims and the buttons below
//   GET  /login     starts the authorization code flow with PKCE (RFC 7636), state
//                   and nonce, asking for the orders API as the resource (RFC 8707)
//   GET  /callback  the redirect_uri: exchanges the code, keeps the tokens
//   POST /orders    calls the orders API: GET /orders (the API verifies the JWT
//                   offline) and POST /orders (the API introspects the token)
//   POST /refresh   the refresh token grant (the refresh token rotates)
//   POST /logout    revokes the refresh token (RFC 7009), then RP-initiated logout
//
// Tokens stay on the server, in memory, under a random session id in an HttpOnly
// SameSite=Lax cookie; the browser never sees them. Every POST carries the
// session's CSRF token as well. Only node:http and openid-client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';

export interface WebAppOptions {
  /** Enot ID's issuer, e.g. http://localhost:3000. */
  issuer: string;
  clientId: string;
  /** A confidential client's secret (client_secret_basic); without one the app is a public client (PKCE only). */
  clientSecret?: string;
  /** Where this app is reached, e.g. http://localhost:3001: redirect_uri is APP_URL/callback, post_logout_redirect_uri APP_URL/. */
  appUrl: string;
  /** The orders API: where it answers, and its resource identifier (the `aud` of its tokens). */
  ordersApi: { url: string; resource: string };
  /** Scopes to ask for; offline_access brings a refresh token (with prompt=consent, OIDC Core §11). */
  scope?: string;
}

interface Session {
  csrf: string;
  /** Between /login and /callback. */
  pending?: { verifier: string; state: string; nonce: string };
  tokens?: { idToken?: string; accessToken: string; refreshToken?: string; expiresAt: number; scope: string };
  claims?: Record<string, unknown>;
  /** What the last action did, shown once at the top of the page. */
  notice?: string;
  /** The orders API's last answers. */
  api?: Array<{ request: string; status: number; body: string }>;
  refreshedAt?: string;
}

const COOKIE = 'sample_session';
const DEFAULT_SCOPE = 'openid email phone roles offline_access orders:read orders:write';

export function createWebApp(options: WebAppOptions): Server {
  const appUrl = options.appUrl.replace(/\/+$/, '');
  const redirectUri = `${appUrl}/callback`;
  const scope = options.scope ?? DEFAULT_SCOPE;
  const sessions = new Map<string, Session>();

  // Discovery (OIDC Discovery 1.0) once; a failure is tried again on the next request.
  let configuration: Promise<oidc.Configuration> | undefined;
  function discover(): Promise<oidc.Configuration> {
    configuration ??= oidc
      .discovery(
        new URL(options.issuer),
        options.clientId,
        { redirect_uris: [redirectUri], ...(options.clientSecret ? {} : { token_endpoint_auth_method: 'none' }) },
        options.clientSecret ? oidc.ClientSecretBasic(options.clientSecret) : oidc.None(),
        // A plain-http issuer is for local development only; openid-client refuses it unless told.
        new URL(options.issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        configuration = undefined;
        throw err;
      });
    return configuration;
  }

  function sessionOf(req: IncomingMessage, res: ServerResponse): Session {
    const id = cookie(req, COOKIE);
    const found = id ? sessions.get(id) : undefined;
    if (found) return found;
    const fresh: Session = { csrf: random() };
    const newId = random();
    sessions.set(newId, fresh);
    res.setHeader('Set-Cookie', `${COOKIE}=${newId}; Path=/; HttpOnly; SameSite=Lax${appUrl.startsWith('https:') ? '; Secure' : ''}`);
    return fresh;
  }

  function keep(session: Session, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) {
    session.tokens = {
      idToken: tokens.id_token ?? session.tokens?.idToken,
      accessToken: tokens.access_token,
      // A refresh token rotates on every use (RFC 9700 §4.14.2): keep the newest.
      refreshToken: tokens.refresh_token ?? session.tokens?.refreshToken,
      expiresAt: Date.now() + (tokens.expiresIn() ?? 0) * 1000,
      scope: tokens.scope ?? '',
    };
    session.claims = tokens.claims() ?? session.claims;
  }

  async function callOrdersApi(session: Session) {
    const token = session.tokens?.accessToken;
    if (!token) throw new Error('not signed in');
    const calls: Array<[string, RequestInit]> = [
      ['POST /orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'tea' }) }],
      ['GET /orders', { method: 'GET' }],
    ];
    session.api = [];
    for (const [request, init] of calls) {
      try {
        // RFC 6750 §2.1: the access token as a Bearer token.
        const response = await fetch(options.ordersApi.url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
        session.api.push({ request, status: response.status, body: await response.text() });
      } catch (err) {
        session.api.push({ request, status: 0, body: `the orders API did not answer: ${(err as Error).message}` });
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', appUrl);
    const session = sessionOf(req, res);
    const route = `${req.method} ${url.pathname}`;

    if (route === 'GET /') return page(res, session, scope);

    if (route === 'GET /login') {
      const config = await discover();
      const pending = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      session.pending = pending;
      const authorizationUrl = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
        // RFC 8707: the access token is for the orders API, its `aud`.
        resource: options.ordersApi.resource,
        // OIDC Core §11: a refresh token (offline_access) is granted only with prompt=consent.
        ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
      });
      return redirect(res, authorizationUrl.href);
    }

    if (route === 'GET /callback') {
      const pending = session.pending;
      session.pending = undefined;
      if (url.searchParams.has('error')) {
        session.notice = `Sign-in did not complete: ${url.searchParams.get('error')} ${url.searchParams.get('error_description') ?? ''}`.trim();
        return redirect(res, `${appUrl}/`);
      }
      if (!pending) {
        session.notice = 'That sign-in was not started here (or was already used); sign in again.';
        return redirect(res, `${appUrl}/`);
      }
      const tokens = await oidc.authorizationCodeGrant(await discover(), url, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      keep(session, tokens);
      session.notice = 'Signed in.';
      session.api = undefined;
      return redirect(res, `${appUrl}/`);
    }

    if (req.method === 'POST') {
      const form = await readForm(req);
      if (!same(form.get('csrf') ?? '', session.csrf)) {
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('Forbidden: the form is not from this page.');
      }
      if (route === 'POST /orders' && session.tokens) {
        await callOrdersApi(session);
        session.notice = 'Called the orders API with the access token.';
        return redirect(res, `${appUrl}/`);
      }
      if (route === 'POST /refresh' && session.tokens?.refreshToken) {
        const tokens = await oidc.refreshTokenGrant(await discover(), session.tokens.refreshToken, { resource: options.ordersApi.resource });
        keep(session, tokens);
        session.refreshedAt = new Date().toISOString();
        session.notice = 'Tokens refreshed.';
        return redirect(res, `${appUrl}/`);
      }
      if (route === 'POST /logout') {
        const config = await discover();
        const idToken = session.tokens?.idToken;
        // A refresh token outlives the sign-in session (offline_access): revoke it (RFC 7009).
        if (session.tokens?.refreshToken) await oidc.tokenRevocation(config, session.tokens.refreshToken, { token_type_hint: 'refresh_token' }).catch(() => {});
        for (const [id, s] of sessions) if (s === session) sessions.delete(id);
        // OIDC RP-Initiated Logout 1.0: Enot ID ends its session and comes back here.
        const endSession = oidc.buildEndSessionUrl(config, {
          post_logout_redirect_uri: `${appUrl}/`,
          ...(idToken ? { id_token_hint: idToken } : { client_id: options.clientId }),
        });
        return redirect(res, endSession.href);
      }
      return redirect(res, `${appUrl}/`);
    }

    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found');
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('sample app:', err);
      if (res.headersSent) return void res.end();
      const description = err instanceof oidc.ResponseBodyError ? `${err.error}: ${err.error_description ?? ''}` : (err as Error).message;
      res.writeHead(502, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(layout('Something went wrong', `<h1>Something went wrong</h1><p role="alert">${escape(description)}</p><p><a href="/">Back</a></p>`));
    });
  });
}

function page(res: ServerResponse, session: Session, scope: string): void {
  const notice = session.notice;
  session.notice = undefined;
  let body = `<h1>Enot ID sample app</h1>`;
  if (notice) body += `<p role="status" id="notice">${escape(notice)}</p>`;
  if (!session.tokens) {
    body += `<p>Not signed in. This app asks Enot ID for <code>${escape(scope)}</code>.</p>
<p><a class="button" href="/login">Sign in</a></p>`;
  } else {
    const claims = session.claims ?? {};
    const who = String(claims.email ?? claims.phone_number ?? claims.sub ?? '');
    const tokens = session.tokens;
    const rows = Object.entries(claims)
      .map(([name, value]) => `<tr><th scope="row">${escape(name)}</th><td>${escape(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`)
      .join('\n');
    body += `<p id="signed-in-as">Signed in as <strong>${escape(who)}</strong>.</p>
<h2>ID token claims</h2>
<table id="claims">${rows}</table>
<h2>Access token</h2>
<dl id="access-token">
<dt>scope</dt><dd id="scope">${escape(tokens.scope)}</dd>
<dt>expires</dt><dd id="expires">${new Date(tokens.expiresAt).toISOString()}</dd>
<dt>SHA-256 (first 12 hex digits; the token stays on the server)</dt><dd id="fingerprint">${fingerprint(tokens.accessToken)}</dd>
<dt>refresh token</dt><dd id="refresh">${tokens.refreshToken ? 'yes' : 'no (ask for offline_access)'}</dd>
${session.refreshedAt ? `<dt>refreshed at</dt><dd id="refreshed-at">${escape(session.refreshedAt)}</dd>` : ''}
</dl>
${action('/orders', 'Call the orders API', session.csrf)}
${tokens.refreshToken ? action('/refresh', 'Refresh tokens', session.csrf) : ''}
${action('/logout', 'Sign out', session.csrf)}`;
    if (session.api) {
      body += `<h2>Orders API</h2>\n<ul id="api">${session.api
        .map((call) => `<li><code>${escape(call.request)}</code> → <strong class="status">${call.status || 'no answer'}</strong><pre>${escape(call.body)}</pre></li>`)
        .join('\n')}</ul>`;
    }
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(layout('Enot ID sample app', body));
}

function action(path: string, label: string, csrf: string): string {
  return `<form method="post" action="${path}"><input type="hidden" name="csrf" value="${escape(csrf)}"><button type="submit">${escape(label)}</button></form>`;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}form{display:inline-block;margin:.5rem .5rem .5rem 0}
.button,button{font:inherit;padding:.5rem 1rem}</style></head>
<body><main>${body}</main></body></html>`;
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store' });
  res.end();
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function random(): string {
  return randomBytes(32).toString('base64url');
}

function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A small urlencoded form. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 4096) break;
  }
  return new URLSearchParams(text);
}
