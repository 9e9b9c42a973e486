/**
 * One session at a time per endpoint (a serial port, a converter's host:port): polls of meters on
 * the same line wait their turn, with a bound on the waiting queue.
 */
const queues = new Map<string, { tail: Promise<unknown>; depth: number }>();

export const MAX_QUEUE = 100;

export function queueDepth(key: string): number {
  return queues.get(key)?.depth ?? 0;
}

/** Runs `job` after the jobs already queued for `key`; refuses when MAX_QUEUE are waiting. */
export function serialise<T>(key: string, job: () => Promise<T>): Promise<T> {
  let q = queues.get(key);
  if (!q) queues.set(key, (q = { tail: Promise.resolve(), depth: 0 }));
  if (q.depth >= MAX_QUEUE) return Promise.reject(new Error(`${key}: ${q.depth} polls are already waiting for this line`));
  const entry = q;
  entry.depth++;
  const run = entry.tail.then(job, job);
  entry.tail = run.then(() => undefined, () => undefined).finally(() => {
    entry.depth--;
    if (entry.depth === 0 && queues.get(key) === entry) queues.delete(key);
  });
  return run;
}
