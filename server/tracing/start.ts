// OpenTelemetry traces, exported by OTLP/HTTP (JSON) when an endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT, server/config/). Only server/main.ts imports this
// file, dynamically and only then: without an endpoint no OpenTelemetry module loads.
//
// What is traced (README, Traces):
// - one server span per HTTP request (@opentelemetry/instrumentation-http), named by
//   its route (server/http/request-context.ts); its path as the access log has it
//   (server/logging/logged-path.ts), never the query string; a W3C `traceparent` from
//   the caller makes the request's span its child;
// - PostgreSQL statements (instrumentation-pg) and Redis commands (instrumentation-ioredis)
//   made while serving a request, as client spans: the statement text, which carries
//   placeholders, never its values; the Redis command's name, never its arguments (keys
//   hold token ids);
// - our own steps (server/tracing/spans.ts): the token endpoint's and the sign-in's.
//
// Node 24 ESM: the instrumentations patch modules as they load. `pg` and `ioredis` are
// CommonJS, which Node 24 loads through `require` even for an `import`, where the
// instrumentations' require hook sees them; `node:http` imported from ESM is seen only
// through an ESM loader hook: import-in-the-middle's synchronous one (module.registerHooks,
// Node ≥ 24.11.1), registered here for these modules only, on the main thread. So this
// runs before anything imports them: server/main.ts calls it before it loads the rest.
import { register as registerImportHooks } from 'import-in-the-middle/register-hooks.mjs';
import { context, propagation, trace, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type Sampler,
} from '@opentelemetry/sdk-trace';
import { detectResources, emptyResource, resourceAttributesEnvDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/index.ts';
import { loggedPath } from '../logging/logged-path.ts';
import { installTracer } from './spans.ts';

type TracingSettings = NonNullable<Config['tracing']>;

const DEFAULT_SERVICE_NAME = 'enot-id';
const SCOPE = 'enot-id';
// Probes answer every few seconds and say nothing about a request: not traced.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz']);

/** The sampler the OpenTelemetry specification names OTEL_TRACES_SAMPLER's values after. */
function samplerOf(settings: TracingSettings): Sampler {
  const root = {
    always_on: () => new AlwaysOnSampler(),
    always_off: () => new AlwaysOffSampler(),
    traceidratio: () => new TraceIdRatioBasedSampler(settings.samplerRatio),
  }[settings.sampler.replace(/^parentbased_/, '') as 'always_on' | 'always_off' | 'traceidratio']();
  return settings.sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** The path of a request as the access log shows it: no query, no secret segments. */
function requestPath(request: IncomingMessage): string {
  return loggedPath(URL.parse(request.url ?? '/', 'http://path.invalid')?.pathname ?? '/');
}

export interface Tracing {
  /** Exports what is still buffered and stops; called at shutdown. */
  shutdown(): Promise<void>;
}

export function startTracing(settings: TracingSettings): Tracing {
  registerImportHooks({ include: ['node:http', 'http', 'pg', 'pg-pool', 'ioredis'] });

  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  // W3C Trace Context only: a caller's `traceparent`/`tracestate`; baggage is not taken.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES, which wins over enot-id.
  const resource = resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME })
    .merge(detectResources({ detectors: [resourceAttributesEnvDetector] }))
    .merge(settings.serviceName ? resourceFromAttributes({ 'service.name': settings.serviceName }) : emptyResource());
  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(settings),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: settings.url }), scheduledDelayMillis: settings.exportDelayMs })],
  });
  trace.setGlobalTracerProvider(provider);

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Outgoing requests (SMS webhooks) carry their own URLs and secrets: not traced.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(requestPath(request)),
        // Replaces the instrumentation's url.path and drops url.query: paths as logged, no query.
        startIncomingSpanHook: (request) => ({ 'url.path': requestPath(request), 'url.query': undefined }) as unknown as Attributes,
      }),
      // Only statements and commands of a traced request or step; the job queue's polling is not traced.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });

  const tracer = trace.getTracer(SCOPE);
  installTracer({
    step: (name, fn, attributes) =>
      tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn();
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
          throw err;
        } finally {
          span.end();
        }
      }),
    route(method, route) {
      const span = trace.getActiveSpan();
      span?.setAttribute('http.route', route);
      span?.updateName(`${method} ${route}`);
    },
    annotate: (attributes) => trace.getActiveSpan()?.setAttributes(attributes),
  });
  return { shutdown: () => provider.shutdown() };
}
