// Latency at a fixed arrival rate (open loop): requests leave at even intervals
// whatever the server does, and each latency counts from when its request was
// due, so a stall shows in the percentiles instead of slowing the sender down
// (no coordinated omission). autocannon's own rate limit sends each second's
// requests in one burst, which measures a burst, not a rate.
import http from 'node:http';

export interface PacedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface PacedResult {
  /** Requests per second asked for. */
  targetRate: number;
  /** Completed per second. */
  rate: number;
  requests: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** What the errors were: HTTP statuses and error codes, with counts. */
  errorKinds?: Record<string, number>;
  duration: number;
}

export async function measureAtRate(url: string, request: PacedRequest, rate: number, seconds: number): Promise<PacedResult> {
  const target = new URL(url);
  // FIFO keeps every pooled socket in use, so none sits idle into the server's
  // keep-alive timeout and gets closed just as a request is written to it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'fifo' });
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers = { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  const latencies: number[] = [];
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  const failed = (kind: string) => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  const inFlight = new Set<Promise<void>>();

  const send = (due: number) => {
    const done = new Promise<void>((resolve) => {
      const req = http.request(
        { host: target.hostname, port: target.port, method: request.method, path: request.path, headers, agent, timeout: 10_000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - due);
            else failed(`HTTP ${res.statusCode}`);
            resolve();
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        failed(err.code ?? err.message);
        resolve();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  const interval = 1000 / rate;
  const began = performance.now();
  const end = began + seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    // Everything due by now leaves now; then sleep about one interval (timers are ~1 ms coarse).
    const now = performance.now();
    while (began + sent * interval <= now && began + sent * interval < end) {
      send(began + sent * interval);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(interval, began + sent * interval - performance.now()))));
  }
  await Promise.all(inFlight);
  const duration = (performance.now() - began) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! : 0);
  return {
    targetRate: rate,
    rate: latencies.length / duration,
    requests: latencies.length,
    p50: Math.round(at(50) * 10) / 10,
    p99: Math.round(at(99) * 10) / 10,
    max: Math.round((latencies.at(-1) ?? 0) * 10) / 10,
    errors,
    ...(errors ? { errorKinds } : {}),
    duration,
  };
}
