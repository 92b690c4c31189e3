// The admin API's OpenAPI 3.1 document, built from the same route declarations
// the guard enforces (./guard.ts), so the two cannot drift. zod 4's own
// z.toJSONSchema() writes JSON Schema 2020-12, the dialect of OpenAPI 3.1
// (OAS 3.1 §4.8.24): no generator library needed.
import { z } from 'zod';
import { COMMON_ERRORS, type AnyRoute } from './guard.ts';
import { errorSchema } from './schemas.ts';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_TTL_HOURS } from './idempotency.ts';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input');
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (object.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const REASONS: Record<number, string> = {
  400: 'invalid_request: the input does not match the schema',
  401: 'invalid_token: no valid access token (WWW-Authenticate says why)',
  403: 'insufficient_scope or forbidden: not an admin token, or its holder is not an admin',
  404: 'not_found',
  429: 'rate_limited: too many refused calls from this address (Retry-After says when to try again)',
  409: 'conflict: already exists (or, for an Idempotency-Key already used, created by the first request); existing_id names it',
  422: `invalid_request: this ${IDEMPOTENCY_HEADER} came with another body`,
  503: 'temporarily_unavailable: storage did not answer; retry',
};

export function openApiDocument(routes: AnyRoute[], issuer: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const errors = [...new Set([...COMMON_ERRORS, ...(route.errors ?? []), ...(route.idempotent ? [409, 422] : [])])].sort();
    const idempotencyKey = route.idempotent
      ? [{
        name: IDEMPOTENCY_HEADER, in: 'header', required: false,
        description: `draft-ietf-httpapi-idempotency-key-header: a retry with the same key (kept ${IDEMPOTENCY_KEY_TTL_HOURS} h) creates nothing and answers 409 with existing_id, the id the first request created; the first answer is not replayed`,
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      }]
      : [];
    const responses: Record<string, unknown> = {
      [route.status]: route.response
        ? { description: route.summary, content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } }
        : { description: route.summary },
    };
    for (const status of errors) {
      responses[status] = { description: REASONS[status] ?? 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    }
    (paths[path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query'), ...idempotencyKey],
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Enot ID admin API',
      version: '1',
      description: `Needs an access token for ${issuer}/admin with scope admin, issued to a first-party client, held by an account or machine client with the role admin.`,
    },
    servers: [{ url: `${issuer}/api/admin` }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'RFC 6750 Bearer, or RFC 9449 DPoP for a bound token' },
      },
    },
  };
}
