// Writes oidc-provider models to Redis in bulk, in exactly the format of
// adapters/redis.ts: the adapter itself runs, on a stand-in client that queues
// what it would send (its Lua scripts as EVALSHA, MULTI chains as plain
// commands) in one RESP stream on a raw socket. A million saves are then a few
// hundred socket writes instead of a million round trips, and no ioredis
// command objects (ioredis spends more CPU per command than Redis does).
// Dropping MULTI is safe here: nothing reads the keys while they are written.
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Redis } from 'ioredis';

export interface BulkWriter {
  /** Give this to redisAdapterFactory: what an upsert sends is queued, and its promise resolves at once. */
  client: Redis;
  /** Sends what is queued once the previous send is answered: one batch is in Redis while the next is built. */
  send(): Promise<void>;
  /** Sends what is queued and waits for every reply; rejects on the first error reply. Resolves with the commands sent in all. */
  done(): Promise<number>;
  close(): void;
}

function encode(args: readonly unknown[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const value = String(arg);
    out += `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
  }
  return out;
}

/** Where the RESP reply starting at `at` ends, or -1 when it has not fully arrived. */
function replyEnd(buffer: Buffer, at: number): number {
  const eol = buffer.indexOf('\r\n', at);
  if (eol < 0) return -1;
  const type = buffer[at];
  const size = () => Number(buffer.toString('latin1', at + 1, eol));
  if (type === 0x24 /* $ bulk string */) {
    const end = size() < 0 ? eol + 2 : eol + 2 + size() + 2;
    return end <= buffer.length ? end : -1;
  }
  if (type === 0x2a /* * array */) {
    let pos = eol + 2;
    for (let i = 0; i < size() && pos >= 0; i++) pos = replyEnd(buffer, pos);
    return pos;
  }
  return eol + 2;
}

export async function openBulkWriter(redisUrl: string): Promise<BulkWriter> {
  const url = new URL(redisUrl);
  const port = Number(url.port || 6379);
  const socket = url.protocol === 'rediss:'
    ? tls.connect({ host: url.hostname, port, servername: url.hostname })
    : net.connect(port, url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });

  let queued: string[] = [];
  let queuedCount = 0;
  let pending = 0;
  let sent = 0;
  let failure: Error | undefined;
  let waiting: Array<() => void> = [];
  let unread: Buffer = Buffer.alloc(0);
  const wake = () => {
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve();
  };
  socket.on('data', (chunk: Buffer) => {
    unread = unread.length ? Buffer.concat([unread, chunk]) : chunk;
    let at = 0;
    while (at < unread.length) {
      const end = replyEnd(unread, at);
      if (end < 0) break;
      if (unread[at] === 0x2d /* - error */) failure ??= new Error(`Redis: ${unread.toString('utf8', at + 1, end - 2)}`);
      pending--;
      at = end;
    }
    unread = unread.subarray(at);
    if (pending === 0 || failure) wake();
  });
  socket.on('error', (err) => {
    failure ??= err;
    wake();
  });
  socket.on('close', () => {
    if (pending > 0) failure ??= new Error('Redis closed the connection');
    wake();
  });

  const queue = (args: readonly unknown[]) => {
    queued.push(encode(args));
    queuedCount++;
  };
  const answered = () => (pending === 0 || failure ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve)));
  const send = async () => {
    await answered();
    if (failure) throw failure;
    if (!queuedCount) return;
    pending += queuedCount;
    sent += queuedCount;
    const data = queued.join('');
    queued = [];
    queuedCount = 0;
    if (!socket.write(data)) await new Promise((resolve) => socket.once('drain', resolve));
  };

  if (url.password) queue(['AUTH', ...(url.username ? [decodeURIComponent(url.username)] : []), decodeURIComponent(url.password)]);
  if (url.pathname.length > 1) queue(['SELECT', url.pathname.slice(1)]);

  // What adapters/redis.ts writes with: scripts (ioredis defineCommand), SET for
  // its index keys, DEL, and MULTI chains. Any other call fails loudly (not a function).
  const chain: unknown = new Proxy({}, {
    get(_, name) {
      if (name === 'exec') return async () => [];
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => {
        queue([name, ...args]);
        return chain;
      };
    },
  });
  const plain = (command: string) => async (...args: unknown[]) => {
    queue([command, ...args]);
    return 'OK';
  };
  const client: Record<string, unknown> = {
    multi: () => chain,
    set: plain('SET'),
    del: plain('DEL'),
    defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }) {
      const sha = createHash('sha1').update(definition.lua).digest('hex');
      let loaded = false;
      client[name] = async (...args: unknown[]) => {
        // Loaded on first use, ahead of it in the same stream.
        if (!loaded) queue(['SCRIPT', 'LOAD', definition.lua]);
        loaded = true;
        // Without numberOfKeys, ioredis takes the key count as the first argument, as EVALSHA does.
        queue(['EVALSHA', sha, ...(definition.numberOfKeys === undefined ? [] : [definition.numberOfKeys]), ...args]);
        return 0;
      };
    },
  };

  return {
    client: client as unknown as Redis,
    send,
    async done() {
      await send();
      await answered();
      if (failure) throw failure;
      return sent;
    },
    close: () => socket.destroy(),
  };
}
