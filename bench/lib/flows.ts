// Multi-request journeys (a whole sign-in) written once as generators: each
// `yield` hands out the next HTTP request and receives its response. The same
// generator is driven by autocannon under load (bench/lib/load.ts) and by
// fetch when preparing tokens (runFlow below), so the load and the preparation
// walk exactly the same pages.
import { createHash, randomBytes } from 'node:crypto';

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Path and query, on the target's origin. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; set-cookie is always an array. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type Flow<T> = Generator<HttpRequest, T, HttpResponse>;

/** Where a sign-in goes: the server and a registered confidential client. */
export interface Target {
  origin: string;
  /**
   * The server's ISSUER when the load goes to another address (a process directly, or
   * a second proxy): every absolute URL the server sends is built on ISSUER, never on
   * the Host it was reached by, so a redirect there stays on the server.
   */
  issuer?: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

export class FlowError extends Error {}

function header(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function expectStatus(res: HttpResponse, status: number, what: string): void {
  if (res.status !== status) {
    throw new FlowError(`${what}: expected ${status}, got ${res.status} ${res.body.slice(0, 160).replace(/\s+/g, ' ')}`);
  }
}

const decodeEntities = (s: string) =>
  s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

export const FORM = 'application/x-www-form-urlencoded';

/** The first form whose action matches, with its hidden fields (attributes in any order). */
export function readForm(html: string, action: RegExp): { action: string; hidden: Record<string, string> } {
  for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const formAction = /\baction="([^"]*)"/.exec(form[1]!)?.[1];
    if (formAction === undefined || !action.test(decodeEntities(formAction))) continue;
    const hidden: Record<string, string> = {};
    for (const input of form[2]!.matchAll(/<input\b([^>]*)>/g)) {
      const attributes = Object.fromEntries([...input[1]!.matchAll(/([a-zA-Z_:-]+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), decodeEntities(m[2]!)]));
      if (attributes.type === 'hidden' && attributes.name) hidden[attributes.name] = attributes.value ?? '';
    }
    return { action: decodeEntities(formAction), hidden };
  }
  throw new FlowError(`no form with an action matching ${action}`);
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** Where a browser ended up: a page on the server, or a redirect away from it (to the client). */
export interface Landing {
  response: HttpResponse;
  /** Path of the page on the server. */
  path: string;
  /** Set when the server redirected to another origin (the client's redirect URI). */
  leftTo?: string;
}

/** A cookie jar with path scoping and manual redirects, as a browser without JavaScript behaves. */
export class Browser {
  private readonly jar = new Map<string, Cookie>();
  private readonly origin: string;
  private readonly issuerOrigin: string;
  private readonly extraHeaders: Record<string, string>;
  constructor(origin: string, extraHeaders: Record<string, string> = {}, issuer: string = origin) {
    this.origin = origin;
    this.issuerOrigin = new URL(issuer).origin;
    this.extraHeaders = extraHeaders;
  }

  private cookieHeader(path: string): string {
    return [...this.jar.values()].filter((c) => path.startsWith(c.path)).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  private store(setCookie: string | string[] | undefined): void {
    for (const line of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const cookie: Cookie = { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim(), path: '/' };
      let expired = false;
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.trim().split('=');
        const value = rest.join('=');
        const name = key!.toLowerCase();
        if (name === 'path') cookie.path = value || '/';
        else if (name === 'expires' && new Date(value).getTime() < Date.now()) expired = true;
        else if (name === 'max-age' && Number(value) <= 0) expired = true;
      }
      const key = `${cookie.name};${cookie.path}`;
      if (expired || cookie.value === '') this.jar.delete(key);
      else this.jar.set(key, cookie);
    }
  }

  *request(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Flow<HttpResponse> {
    const headers: Record<string, string> = { accept: 'text/html', ...this.extraHeaders };
    const cookies = this.cookieHeader(path.split('?')[0]!);
    if (cookies) headers.cookie = cookies;
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = FORM;
    }
    const response = yield { method, path, headers, body };
    this.store(response.headers['set-cookie']);
    return response;
  }

  /** Sends a request and follows redirects on this origin; stops at a page or at a redirect elsewhere. */
  *go(method: 'GET' | 'POST', path: string, form?: Record<string, string>): Flow<Landing> {
    let response = yield* this.request(method, path, form);
    for (let hops = 0; hops < 20; hops++) {
      const location = header(response, 'location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, path };
      const next = new URL(location, this.origin + path);
      if (next.origin !== this.origin && next.origin !== this.issuerOrigin) return { response, path, leftTo: next.href };
      path = next.pathname + next.search;
      response = yield* this.request('GET', path);
    }
    throw new FlowError('too many redirects');
  }

  /** Resolves a form action against the page it is on, as a path on this origin. */
  pathOf(action: string, pagePath: string): string {
    const url = new URL(action, this.origin + pagePath);
    return url.pathname + url.search;
  }
}

/** A PKCE pair (RFC 7636, S256) and a state value. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), state: randomBytes(12).toString('base64url') };
}

export function authorizationPath(target: Target, input: { scope: string; challenge: string; state: string; resource?: string }): string {
  const query = new URLSearchParams({
    client_id: target.clientId,
    response_type: 'code',
    redirect_uri: target.redirectUri,
    scope: input.scope,
    code_challenge: input.challenge,
    code_challenge_method: 'S256',
    state: input.state,
  });
  // OIDC Core §11: offline_access is only granted with prompt=consent.
  if (input.scope.split(' ').includes('offline_access')) query.set('prompt', 'consent');
  if (input.resource) query.set('resource', input.resource);
  return `/auth?${query}`;
}

/** The code from the redirect to the client, after checking state. */
function codeFrom(landing: Landing, state: string): string {
  if (!landing.leftTo) throw new FlowError(`did not reach the client: ${landing.response.status} at ${landing.path} ${landing.response.body.slice(0, 200)}`);
  const url = new URL(landing.leftTo);
  if (url.searchParams.get('state') !== state) throw new FlowError('state mismatch');
  const code = url.searchParams.get('code');
  if (!code) throw new FlowError(`no code: ${url.searchParams.get('error')} ${url.searchParams.get('error_description')}`);
  return code;
}

export function* tokenRequest(target: Target, params: Record<string, string>): Flow<TokenResponse> {
  const response = yield {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': FORM, accept: 'application/json', authorization: basicAuth(target.clientId, target.clientSecret) },
    body: new URLSearchParams(params).toString(),
  };
  expectStatus(response, 200, 'token request');
  return JSON.parse(response.body) as TokenResponse;
}

function* exchangeCode(target: Target, landing: Landing, secrets: { verifier: string; state: string }): Flow<TokenResponse> {
  return yield* tokenRequest(target, {
    grant_type: 'authorization_code',
    code: codeFrom(landing, secrets.state),
    redirect_uri: target.redirectUri,
    code_verifier: secrets.verifier,
  });
}

/** Enot ID's consent page, when it is shown: Allow. */
function* enotConsent(browser: Browser, landing: Landing): Flow<Landing> {
  if (landing.leftTo) return landing;
  expectStatus(landing.response, 200, 'consent page');
  const consent = readForm(landing.response.body, /\/confirm$/);
  return yield* browser.go('POST', browser.pathOf(consent.action, landing.path), consent.hidden);
}

export interface SignInInput {
  scope: string;
  resource?: string;
  /** Extra request headers (X-Forwarded-For). */
  headers?: Record<string, string>;
}

/** Enot ID: authorization code + PKCE, sign-in page, password, consent, token. */
export function* enotPasswordSignIn(target: Target, input: SignInInput & { email: string; password: string }): Flow<TokenResponse> {
  const browser = new Browser(target.origin, input.headers, target.issuer);
  const secrets = pkce();
  let landing = yield* browser.go('GET', authorizationPath(target, { ...input, ...secrets }));
  expectStatus(landing.response, 200, 'sign-in page');
  // One form, two buttons: "continue with code" (/code) and "sign in with password" (/login).
  const form = readForm(landing.response.body, /\/code$/);
  const loginAction = browser.pathOf(form.action.replace(/\/code$/, '/login'), landing.path);
  landing = yield* browser.go('POST', loginAction, { ...form.hidden, identifier: input.email, password: input.password });
  landing = yield* enotConsent(browser, landing);
  return yield* exchangeCode(target, landing, secrets);
}

/** Enot ID: authorization code + PKCE, sign-in page, email, the code from the mail, consent, token. */
export function* enotCodeSignIn(
  target: Target,
  input: SignInInput & { email: string; codeFor: (email: string) => string | undefined },
): Flow<TokenResponse> {
  const browser = new Browser(target.origin, input.headers, target.issuer);
  const secrets = pkce();
  let landing = yield* browser.go('GET', authorizationPath(target, { ...input, ...secrets }));
  expectStatus(landing.response, 200, 'sign-in page');
  const form = readForm(landing.response.body, /\/code$/);
  // 303 to the flow's code page; the mail has arrived by the time the server answers.
  landing = yield* browser.go('POST', browser.pathOf(form.action, landing.path), { ...form.hidden, identifier: input.email });
  expectStatus(landing.response, 200, 'code page');
  const code = input.codeFor(input.email);
  if (!code) throw new FlowError(`no code arrived for ${input.email}`);
  const codeForm = readForm(landing.response.body, /\/flows\/[^/]+\/code$/);
  landing = yield* browser.go('POST', browser.pathOf(codeForm.action, landing.path), { ...codeForm.hidden, code });
  landing = yield* enotConsent(browser, landing);
  return yield* exchangeCode(target, landing, secrets);
}

/** Bare oidc-provider with devInteractions: the same protocol steps, any login accepted, no password check. */
export function* devInteractionsSignIn(target: Target, input: SignInInput & { login: string }): Flow<TokenResponse> {
  const browser = new Browser(target.origin, input.headers, target.issuer);
  const secrets = pkce();
  let landing = yield* browser.go('GET', authorizationPath(target, { ...input, ...secrets }));
  for (let step = 0; step < 4 && !landing.leftTo; step++) {
    expectStatus(landing.response, 200, 'interaction page');
    const form = readForm(landing.response.body, /\/interaction\/[^/]+$/);
    const fields = form.hidden.prompt === 'login' ? { ...form.hidden, login: input.login, password: 'any' } : form.hidden;
    landing = yield* browser.go('POST', browser.pathOf(form.action, landing.path), fields);
  }
  return yield* exchangeCode(target, landing, secrets);
}

/** Drives a flow with fetch (for preparing tokens; not measured). */
export async function runFlow<T>(origin: string, flow: Flow<T>): Promise<T> {
  let step = flow.next();
  while (!step.done) {
    const request = step.value;
    const response = await fetch(origin + request.path, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual' });
    const headers: HttpResponse['headers'] = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers[name] = value;
    });
    headers['set-cookie'] = response.headers.getSetCookie();
    step = flow.next({ status: response.status, headers, body: await response.text() });
  }
  return step.value;
}

/** Runs `count` flows with at most `concurrency` at a time; returns their results in order. */
export async function runFlows<T>(origin: string, count: number, concurrency: number, make: (i: number) => Flow<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await runFlow(origin, make(i));
      }
    }),
  );
  return results;
}
