// A minimal browser for HTTP-level journeys: a cookie jar (with path scoping),
// manual redirects, and HTML form reading. Chromium tests come separately.

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

function parseSetCookie(header: string): Cookie & { expired: boolean } {
  const [pair, ...attributes] = header.split(';');
  const eq = pair!.indexOf('=');
  const cookie = { name: pair!.slice(0, eq).trim(), value: pair!.slice(eq + 1).trim(), path: '/', expired: false };
  for (const attribute of attributes) {
    const [key, ...rest] = attribute.trim().split('=');
    const value = rest.join('=');
    if (key!.toLowerCase() === 'path') cookie.path = value || '/';
    if (key!.toLowerCase() === 'expires' && new Date(value).getTime() < Date.now()) cookie.expired = true;
    if (key!.toLowerCase() === 'max-age' && Number(value) <= 0) cookie.expired = true;
  }
  return cookie;
}

/** `fetch`: another transport, e.g. fetchFrom('127.0.0.2') (./local-address.ts) for a browser with its own IP. */
export function createBrowser(options: { fetch?: (input: URL, init: RequestInit) => Promise<Response> } = {}) {
  const send = options.fetch ?? fetch;
  const jar = new Map<string, Cookie>();

  function cookieHeader(url: URL): string {
    return [...jar.values()]
      .filter((c) => url.pathname.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  function store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      const key = `${cookie.name};${cookie.path}`;
      if (cookie.expired || cookie.value === '') jar.delete(key);
      else jar.set(key, cookie);
    }
  }

  async function request(url: string, init: RequestInit = {}): Promise<Page> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = cookieHeader(target);
    if (cookies) headers.set('cookie', cookies);
    if (!headers.has('accept')) headers.set('accept', 'text/html');
    const response = await send(target, { ...init, headers, redirect: 'manual' });
    store(response);
    return { url, status: response.status, headers: response.headers, body: await response.text() };
  }

  /** GETs `url` and follows redirects until a page, or until a URL starting with `stopAt`. */
  async function follow(url: string, stopAt?: string, init?: RequestInit): Promise<Page> {
    let page = await request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = page.headers.get('location');
      if (page.status < 300 || page.status >= 400 || !location) return page;
      const next = new URL(location, page.url).href;
      if (stopAt && next.startsWith(stopAt)) return { ...page, url: next };
      page = await request(next);
    }
    throw new Error('too many redirects');
  }

  /** POSTs a urlencoded form and follows the redirects that result. */
  async function submit(action: string, fields: Record<string, string>, stopAt?: string): Promise<Page> {
    return follow(action, stopAt, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  return { request, follow, submit, cookies: jar };
}

/** The attribute values of the first form whose action matches `actionPattern`, and its hidden fields. */
export function readForm(page: Page, actionPattern: RegExp): { action: string; hidden: Record<string, string> } {
  const forms = [...page.body.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => actionPattern.test(f[1]!));
  if (!form) throw new Error(`no form matching ${actionPattern} on ${page.url} (status ${page.status})`);
  const hidden: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    hidden[input[1]!] = input[2]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"');
  }
  return { action: new URL(form[1]!.replaceAll('&amp;', '&'), page.url).href, hidden };
}
