// Load generation with autocannon as a library, in the benchmark's own process
// (the servers under test are child processes, so they never share this event loop).
import autocannon from 'autocannon';
import { cpuPerUnit, type CpuPerUnit, type CpuSample } from './cpu.ts';
import type { Flow, HttpRequest, HttpResponse } from './flows.ts';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Measured seconds. */
  duration: number;
  /** Seconds of the same load before measuring, not recorded (JIT, pools, caches). */
  warmup: number;
  /** CPU time so far of the server under load (./cpu.ts), read when the measured seconds begin and end. */
  cpu?: () => CpuSample;
}

/** One scenario's figures. */
export interface Measured {
  /** HTTP requests per second. */
  rps: number;
  /** Completed units per second: requests for single-request scenarios, whole journeys for flows. */
  rate: number;
  unit: 'req' | 'sign-in';
  requests: number;
  /** Completed journeys (flows only). */
  completed?: number;
  /** Latency of one HTTP request, ms. */
  p50: number;
  p99: number;
  /** Latency of a whole journey, ms (flows only). */
  flowP50?: number;
  flowP99?: number;
  /** Connection errors, timeouts, unexpected statuses and failed journeys. */
  errors: number;
  statusCodes: Record<string, number>;
  duration: number;
  connections: number;
  /** The first few error messages, for diagnosis. */
  errorSamples?: string[];
  /** CPU time of the server per unit (request or completed journey) over the measured seconds, when `cpu` was given. */
  cpu?: CpuPerUnit;
}

type Request = autocannon.Request;

function normaliseHeaders(raw: Request['headers']): HttpResponse['headers'] {
  const headers: HttpResponse['headers'] = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    const key = name.toLowerCase();
    const list = Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];
    if (key === 'set-cookie') headers[key] = [...((headers[key] as string[] | undefined) ?? []), ...list];
    else headers[key] = list[0];
  }
  return headers;
}

async function cannon(options: LoadOptions, requests: () => Request[], seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    requests: requests(),
    timeout: 10,
  });
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(result: autocannon.Result, options: LoadOptions, extra: { unexpected?: number; samples?: string[] } = {}): Measured {
  const codes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries((result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats)) codes[code] = count;
  const requests = result.requests.total;
  const seconds = result.duration || options.duration;
  return {
    rps: requests / seconds,
    rate: requests / seconds,
    unit: 'req',
    requests,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + (extra.unexpected ?? result.non2xx),
    statusCodes: codes,
    duration: seconds,
    connections: options.connections,
    ...(extra.samples?.length ? { errorSamples: extra.samples } : {}),
  };
}

// A measurement with nothing completed says nothing; on a saturated machine a
// short (--quick) run can end before the first answer, so such a run is
// repeated for twice as long, then four and eight times.

/** The same request over and over (or built per request by `setupRequest`). */
export async function measureRequests(options: LoadOptions, requests: () => Request[]): Promise<Measured> {
  if (options.warmup > 0) await cannon(options, requests, options.warmup);
  const run = async (seconds: number) => {
    const before = options.cpu?.();
    const measured = summarise(await cannon(options, requests, seconds), options);
    return withCpu(measured, before, options, measured.requests);
  };
  let measured = await run(options.duration);
  for (let seconds = options.duration * 2; measured.requests === 0 && seconds <= options.duration * 8; seconds *= 2) {
    measured = await run(seconds);
  }
  return measured;
}

function withCpu(measured: Measured, before: CpuSample | undefined, options: LoadOptions, units: number): Measured {
  const cpu = before && options.cpu ? cpuPerUnit(before, options.cpu(), units) : undefined;
  return cpu ? { ...measured, cpu } : measured;
}

/**
 * Whole journeys under load: every connection walks one journey at a time,
 * request by request. autocannon resets its per-connection context after every
 * request when there is a single request template, so the journey in progress
 * travels through a stack: onResponse pushes it, and the very next
 * setupRequest (the same connection's) pops it again.
 */
export async function measureFlows<T>(
  options: LoadOptions,
  start: (n: number) => Flow<T>,
  onDone?: (result: T) => void,
): Promise<Measured> {
  interface Journey {
    flow: Flow<T>;
    request: HttpRequest;
    started: number;
  }
  let counter = 0;
  const run = async (seconds: number) => {
    const ready: Journey[] = [];
    const durations: number[] = [];
    const samples = new Set<string>();
    let failed = 0;
    let requestsInFlows = 0;
    const fail = (err: unknown) => {
      failed++;
      if (samples.size < 5) samples.add(String((err as Error)?.message ?? err));
    };
    const begin = (): Journey => {
      for (;;) {
        const flow = start(counter++);
        try {
          const first = flow.next();
          if (!first.done) return { flow, request: first.value, started: performance.now() };
        } catch (err) {
          fail(err);
        }
      }
    };
    const template: Request = {
      setupRequest(request, context) {
        const journey = ready.pop() ?? begin();
        (context as { journey?: Journey }).journey = journey;
        return { ...request, method: journey.request.method, path: journey.request.path, headers: journey.request.headers, body: journey.request.body ?? '' };
      },
      onResponse(status, body, context, headers) {
        const journey = (context as { journey?: Journey }).journey;
        if (!journey) return;
        (context as { journey?: Journey }).journey = undefined;
        requestsInFlows++;
        try {
          const step = journey.flow.next({ status, headers: normaliseHeaders(headers), body });
          if (step.done) {
            durations.push(performance.now() - journey.started);
            onDone?.(step.value);
          } else {
            journey.request = step.value;
            ready.push(journey);
          }
        } catch (err) {
          fail(err);
        }
      },
    };
    const before = options.cpu?.();
    const result = await cannon(options, () => [template], seconds);
    const after = options.cpu?.();
    return { result, durations, failed, samples: [...samples], requestsInFlows, cpu: before && after ? { before, after } : undefined };
  };

  if (options.warmup > 0) await run(options.warmup);
  let { result, durations, failed, samples, cpu } = await run(options.duration);
  for (let seconds = options.duration * 2; durations.length === 0 && failed === 0 && seconds <= options.duration * 8; seconds *= 2) {
    ({ result, durations, failed, samples, cpu } = await run(seconds));
  }
  durations.sort((a, b) => a - b);
  const measured = summarise(result, options, { unexpected: failed, samples });
  const seconds = measured.duration;
  return {
    ...measured,
    unit: 'sign-in',
    rate: durations.length / seconds,
    completed: durations.length,
    flowP50: Math.round(percentile(durations, 50)),
    flowP99: Math.round(percentile(durations, 99)),
    ...(cpu && durations.length ? { cpu: cpuPerUnit(cpu.before, cpu.after, durations.length) } : {}),
  };
}
