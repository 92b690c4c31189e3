// Things that arrive at a test server (mails, webhook requests), kept in order,
// with a cursor so a test can wait for "the next one" after each action, or for
// the next one that matches (by recipient, say): mail from an earlier test's
// asynchronous work (a queued security notice) may arrive in between.
export interface Arrivals<T> {
  all: T[];
  add(item: T): void;
  /** The oldest item not yet returned, waiting for it. */
  next(timeoutMs: number, what: string): Promise<T>;
  /** The oldest item not yet returned that matches, waiting for it; items passed over stay for next(). */
  nextMatching(match: (item: T) => boolean, timeoutMs: number, what: string): Promise<T>;
}

export function arrivals<T>(): Arrivals<T> {
  const all: T[] = [];
  const waiting: Array<() => void> = [];
  const returned = new Set<number>();
  async function take(match: (item: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = all.findIndex((item, i) => !returned.has(i) && match(item));
      if (index !== -1) {
        returned.add(index);
        return all[index]!;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} arrived within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  return {
    all,
    add(item) {
      all.push(item);
      waiting.splice(0).forEach((wake) => wake());
    },
    next: (timeoutMs, what) => take(() => true, timeoutMs, what),
    nextMatching: take,
  };
}
