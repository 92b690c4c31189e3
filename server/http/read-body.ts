// The raw body of one of our own routes, with a size limit. A body declared
// larger is refused before it is read. One that turns out larger while it is read
// (chunked, RFC 9112 §7.1) is read to its end and dropped, not abandoned
// half-way: leaving the loop early destroys the request stream and its socket,
// and whatever the route still does with the request (the admin API's audit
// record reads the client's address) then failed with a 500.
import type { Context } from 'koa';

export async function readBody(ctx: Context, limitBytes: number, tooLarge: () => Error): Promise<Buffer> {
  if (Number(ctx.get('content-length') || 0) > limitBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limitBytes) chunks.push(chunk);
  }
  if (size > limitBytes) throw tooLarge();
  return Buffer.concat(chunks);
}
