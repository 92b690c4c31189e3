// Prometheus metrics (prom-client), one registry per process. Labels are
// bounded sets (route templates, grant types, outcomes), never user data.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'enot_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'enot_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'enot_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'enot_tokens_issued_total',
      help: 'Successful token endpoint responses by grant type',
      labelNames: ['grant_type'] as const,
      registers: [registry],
    }),
    signIns: new Counter({
      name: 'enot_sign_ins_total',
      help: 'Sign-in attempts by method (password, code) and outcome',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    codesSent: new Counter({
      name: 'enot_codes_sent_total',
      help: 'One-time codes by channel and outcome (sent, failed)',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'enot_rate_limited_total',
      help: 'Requests refused by a rate limit, by limit',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
