// Our own spans: the token endpoint's and the sign-in's steps, and the HTTP route.
// This file loads no OpenTelemetry module: with tracing off (no OTLP endpoint,
// server/config/) nothing is installed, every step runs as it is and costs one
// check. With tracing on, server/tracing/start.ts installs a Tracer built on the
// OpenTelemetry API, as the API itself keeps one global tracer provider per process.
//
// Attributes are bounded and never secret: names, kinds and outcomes, never a
// secret, token, code, password, email or phone number (README, Traces).

/** Attribute values a step may record. */
export type StepAttributes = Record<string, string | number | boolean>;

export interface Tracer {
  /** Runs `fn` in a child span of the active span named `name`; an error ends it with status error. */
  step<T>(name: string, fn: () => Promise<T>, attributes?: StepAttributes): Promise<T>;
  /** Names the active HTTP server span by its route template (`POST token`, `GET /interaction/:uid`). */
  route(method: string, route: string): void;
  /** Sets attributes on the active span (a step's outcome known only inside it). */
  annotate(attributes: StepAttributes): void;
}

let installed: Tracer | undefined;

/** Called once by server/tracing/start.ts. */
export function installTracer(tracer: Tracer): void {
  installed = tracer;
}

/** Runs one step of a request (`token.client_authentication`, `sign_in.password_verification`) in its own span when tracing is on. */
export function traced<T>(name: string, fn: () => Promise<T>, attributes?: StepAttributes): Promise<T> {
  return installed ? installed.step(name, fn, attributes) : fn();
}

/** The HTTP server span's route (server/http/request-context.ts). */
export function tracedRoute(method: string, route: string): void {
  installed?.route(method, route);
}

/** Attributes of the active span, e.g. a step's outcome. */
export function annotateSpan(attributes: StepAttributes): void {
  installed?.annotate(attributes);
}
