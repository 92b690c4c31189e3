// Two questions the embedded database asks of this machine: is a process alive (the
// data directory's lock, the embedded PostgreSQL, its tests), and which loopback port
// is free (the embedded PostgreSQL; test servers pick theirs below the ephemeral
// range, test/helpers/environment.ts).
import { createServer } from 'node:net';

/** Whether a process exists (EPERM: it does, and belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A loopback port free at the moment of asking (the caller binds it soon after, or retries). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
