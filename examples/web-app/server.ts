// Runs the sample web app against a running Enot ID (npm run example:web):
//   CLIENT_ID=... CLIENT_SECRET=... npm run example:web
// Every variable is read and checked here, once; a bad one stops the start with
// one line naming it. `npm start -- --demo` runs this app in Enot ID's own process instead.
import { createWebApp } from './web-app.ts';

function fail(message: string): never {
  process.stderr.write(`sample app: ${message}\n`);
  process.exit(1);
}

function httpUrl(name: string, fallback: string): URL {
  const value = process.env[name] || fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${name}=${value}: not a URL; use one such as ${fallback}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${name}=${value}: not an http or https URL; use one such as ${fallback}`);
  return url;
}

const issuer = httpUrl('ISSUER', 'http://localhost:3000');
const appUrl = httpUrl('APP_URL', 'http://localhost:3001');
const ordersApiUrl = httpUrl('ORDERS_API_URL', 'http://localhost:4000/orders');
const ordersResource = process.env.ORDERS_RESOURCE || 'https://orders.example.com';
const clientId = process.env.CLIENT_ID;
if (!clientId) {
  fail('CLIENT_ID is not set; register this app first: npm run -s cli -- client create --name "Sample app" --redirect-uri http://localhost:3001/callback --post-logout-redirect-uri http://localhost:3001/ --scope "openid email phone roles offline_access orders:read orders:write" --json');
}
const portText = process.env.PORT || appUrl.port || (appUrl.protocol === 'https:' ? '443' : '80');
const port = Number(portText);
if (!/^\d+$/.test(portText) || port < 1 || port > 65_535) fail(`PORT=${portText}: not a TCP port; use one from 1 to 65535, such as 3001`);
if (appUrl.pathname !== '/') fail(`APP_URL=${appUrl.href}: has a path; use the app's origin, such as http://localhost:3001`);

const app = createWebApp({
  issuer: issuer.href.replace(/\/$/, ''),
  clientId,
  clientSecret: process.env.CLIENT_SECRET || undefined,
  appUrl: appUrl.origin,
  ordersApi: { url: ordersApiUrl.href, resource: ordersResource },
});
app.on('error', (err) => fail(`cannot listen on port ${port}: ${err.message}`));
app.listen(port, () => {
  console.log(`sample app on ${appUrl.origin}/ (issuer ${issuer.origin}, client ${clientId}${process.env.CLIENT_SECRET ? '' : ', public'})`);
});
