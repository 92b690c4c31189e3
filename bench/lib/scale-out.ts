// Scale-out: two Enot ID processes on the same PostgreSQL + Redis behind
// HAProxy (roundrobin, so the steps of one sign-in alternate between the
// processes), against one process behind the same HAProxy (the proxy costs the
// same on both sides), and one process without a proxy.
import { enotPasswordSignIn } from './flows.ts';
import { findHaproxy, startHaproxy } from './haproxy.ts';
import { measureFlows, measureRequests, type Measured } from './load.ts';
import type { PartDeps } from './part.ts';
import { freePort } from './processes.ts';
import type { ScaleOutResult, ScaleOutRow, ScaleOutSetup } from './report.ts';
import { clientCredentials, statics } from './requests.ts';
import { PASSWORD, passwordAccount } from './settings.ts';

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function runScaleOut(deps: PartDeps): Promise<ScaleOutResult> {
  const binary = findHaproxy();
  if (!binary) {
    return { skipped: 'haproxy is not installed (Debian: apt-get install haproxy), so there is no load balancer to measure behind', rows: [], ratios: {}, notes: [] };
  }
  const [onePort, twoPort, statsPort, portA, portB] = (await distinctPorts(5)) as [number, number, number, number, number];
  // Every process names the two-process frontend as its issuer: tokens are the
  // same whichever way they were asked for. The server builds every absolute URL
  // on ISSUER, so the flows measured directly or through the one-process frontend
  // follow a redirect to ISSUER on the address they measure (Target.issuer).
  const env = { ...deps.env, ISSUER: `http://127.0.0.1:${twoPort}` };
  const a = await deps.startServer({ ...env, PORT: String(portA) }, 'scale-out-a');
  const b = await deps.startServer({ ...env, PORT: String(portB) }, 'scale-out-b');
  const proxy = await deps.track(
    startHaproxy(binary, [
      { name: 'one', port: onePort, servers: [`127.0.0.1:${portA}`] },
      { name: 'two', port: twoPort, servers: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`] },
    ], statsPort, deps.logFile('haproxy')),
  );
  deps.log(`scale-out: ${proxy.version}; processes ${a.pid} and ${b.pid}`);
  try {
    const setups: Array<{ setup: ScaleOutSetup; url: string; pool?: string }> = [
      { setup: 'direct', url: a.url },
      { setup: 'haproxy-one', url: proxy.urls.one!, pool: 'one' },
      { setup: 'haproxy-two', url: proxy.urls.two!, pool: 'two' },
    ];
    const scenarios: Array<{ id: ScaleOutRow['id']; title: string; run(url: string): Promise<Measured> }> = [
      {
        id: 'client-credentials',
        title: 'client credentials (JWT AT)',
        run: (url) => measureRequests(deps.load(url), statics(clientCredentials({ ...deps.target, origin: url }))),
      },
      {
        id: 'password-sign-in',
        title: 'sign-in by password (code + PKCE)',
        run: (url) => measureFlows(deps.load(url, deps.flowConnections), (n) =>
          enotPasswordSignIn({ ...deps.target, origin: url, issuer: env.ISSUER }, { email: passwordAccount(n % deps.passwordAccounts), password: PASSWORD, scope: 'openid email' })),
      },
    ];
    const rows: ScaleOutRow[] = [];
    const ratios: Record<string, number> = {};
    for (const scenario of scenarios) {
      for (const { setup, url, pool } of setups) {
        deps.log(`scale-out: ${scenario.title}, ${setup} …`);
        const before = pool ? await proxy.responses(pool) : undefined;
        const enot = await scenario.run(url);
        const perProcess = pool ? (await proxy.responses(pool)).map((count, i) => count - before![i]!) : undefined;
        rows.push({ id: scenario.id, title: scenario.title, setup, enot, ...(perProcess ? { perProcess } : {}) });
        if (enot.errorSamples) deps.log(`  errors: ${enot.errorSamples.join(' | ')}`);
      }
      const rate = (setup: ScaleOutSetup) => rows.find((r) => r.id === scenario.id && r.setup === setup)!.enot.rate;
      ratios[scenario.id] = rate('haproxy-two') / rate('haproxy-one');
    }
    const idle = rows.filter((r) => r.setup === 'haproxy-two' && r.perProcess!.some((count) => count === 0));
    if (idle.length) throw new Error(`scale-out: a process behind HAProxy got no requests (${idle.map((r) => `${r.title}: ${r.perProcess!.join(' / ')}`).join('; ')})`);
    return {
      haproxy: proxy.version,
      rows,
      ratios,
      notes: [
        'behind HAProxy every request goes to the next process in turn, so the steps of one sign-in alternate between the two processes: ' +
          'the sign-ins that completed prove that interactions, sessions, codes and grants are shared through PostgreSQL and Redis',
        'HAProxy, both processes, PostgreSQL, Redis and the load generator share the same CPUs: two processes can only be faster by what the one process left idle',
      ],
    };
  } finally {
    await proxy.stop();
    await Promise.all([a.stop(5000), b.stop(5000)]);
  }
}
