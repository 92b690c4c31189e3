// Runs the orders API against a running Enot ID:
//   ISSUER=http://localhost:3000 AUDIENCE=https://orders.example.com \
//   CLIENT_ID=... CLIENT_SECRET=... PORT=4000 node examples/orders-api/server.ts
import { createOrdersApi } from './orders-api.ts';

const env = process.env;
const port = Number(env.PORT ?? 4000);
const api = createOrdersApi({
  issuer: env.ISSUER ?? 'http://localhost:3000',
  audience: env.AUDIENCE ?? 'https://orders.example.com',
  clientId: env.CLIENT_ID,
  clientSecret: env.CLIENT_SECRET,
});
api.listen(port, () => {
  console.log(`orders API on http://localhost:${port}/orders (GET: JWT verified offline; POST: introspection${env.CLIENT_ID ? '' : ', not configured: set CLIENT_ID and CLIENT_SECRET'})`);
});
