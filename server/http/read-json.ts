// A JSON object body for our own APIs (the QR app API, the admin API), read
// with a size limit of its own: bodies are small, a larger one is refused
// before it is buffered whole.
import type { Context } from 'koa';
import { InvalidRequest } from '../errors/index.ts';
import { readBody } from './read-body.ts';

export async function readJson(ctx: Context, limitBytes = 4096): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw new InvalidRequest('the body must be application/json');
  const body = await readBody(ctx, limitBytes, () => new InvalidRequest('the body is too large'));
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error();
    return parsed as Record<string, unknown>;
  } catch {
    throw new InvalidRequest('the body is not a JSON object');
  }
}
