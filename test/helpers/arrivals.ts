// Things that arrive at a test server (mails, webhook requests), kept in order,
// with a cursor so a test can wait for "the next one" after each action.
export interface Arrivals<T> {
  all: T[];
  add(item: T): void;
  next(timeoutMs: number, what: string): Promise<T>;
}

export function arrivals<T>(): Arrivals<T> {
  const all: T[] = [];
  const waiting: Array<() => void> = [];
  let returned = 0;
  return {
    all,
    add(item) {
      all.push(item);
      waiting.splice(0).forEach((wake) => wake());
    },
    async next(timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (all.length <= returned) {
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
      return all[returned++]!;
    },
  };
}
