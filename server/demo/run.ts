// Demo mode (`npm start -- --demo`, issue 12 §2): after the server has started, seeds
// the demo data (seed.ts) and runs the sample web app (examples/web-app/) and the
// orders API (examples/orders-api/) in this process, so the quick start needs no
// second terminal. Loaded only in demo mode.
import type { Server } from 'node:http';
import type { Config } from '../config/index.ts';
import type { RunningServer } from '../server.ts';
import type { OutgoingMessage } from '../delivery/index.ts';
import { outboxDirectory } from '../delivery/outbox.ts';
import { DEMO_EMAIL, DEMO_ROLE, DEMO_SCOPE, seedDemo, type DemoSettings } from './seed.ts';
import { createWebApp } from '../../examples/web-app/web-app.ts';
import { createOrdersApi } from '../../examples/orders-api/orders-api.ts';

export interface RunningDemo {
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string, what: string, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(`demo mode: the ${what} cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another port with ${variable}`));
    });
    server.listen(port, host, () => resolve());
  });
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One line per message the server sends, for the terminal: the demo account's codes. */
export function describeMessage(message: OutgoingMessage): string {
  return `demo: ${message.channel} to ${message.to}: ${message.text.trim().replace(/\s*\n\s*/g, ' / ')}`;
}

export async function startDemo(server: RunningServer, config: Config & { demo: DemoSettings }, print: (line: string) => void): Promise<RunningDemo> {
  const { demo } = config;
  const clients = await seedDemo(server.runtime.db, server.runtime.adapters('Client'), config, demo);
  const api = createOrdersApi({ issuer: config.issuer, audience: demo.ordersResource, clientId: clients.api.clientId, clientSecret: clients.api.clientSecret });
  const web = createWebApp({
    issuer: config.issuer,
    clientId: clients.web.clientId,
    clientSecret: clients.web.clientSecret,
    appUrl: demo.webAppUrl,
    ordersApi: { url: demo.ordersApiUrl, resource: demo.ordersResource },
  });
  try {
    await listen(api, demo.apiPort, demo.listenHost, 'orders API', 'ENOT_DEMO_API_PORT');
    await listen(web, demo.webPort, demo.listenHost, 'sample app', 'ENOT_DEMO_WEB_PORT');
  } catch (err) {
    await Promise.all([api, web].filter((s) => s.listening).map(stop));
    throw err;
  }
  const outbox = config.delivery.smtpUrl ? 'sent by SMTP' : `also written to ${outboxDirectory(config.dataDir)}/`;
  print(
    [
      '',
      'Enot ID demo mode: for trying things on this machine only.',
      `  Open the sample app:  ${demo.webAppUrl}/`,
      `  Sign in as:           ${DEMO_EMAIL} with a one-time code: it is printed here ("demo: email to ${DEMO_EMAIL}: ..."), ${outbox}`,
      `  Its client id:        ${clients.web.clientId} (confidential; redirect URI ${demo.webAppUrl}/callback; scope ${DEMO_SCOPE})`,
      `  Orders API:           ${demo.ordersApiUrl} (resource ${demo.ordersResource}; the role ${DEMO_ROLE} grants orders:write, every account orders:read)`,
      `  Issuer:               ${config.issuer} (discovery ${config.issuer}/.well-known/openid-configuration)`,
      '',
    ].join('\n'),
  );
  return {
    async close() {
      await Promise.all([stop(web), stop(api)]);
    },
  };
}
