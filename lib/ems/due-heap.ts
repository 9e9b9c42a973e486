/**
 * A binary min-heap of (due time, generation, item), earliest due first, ties in insertion order.
 * Entries are never removed from the middle: a caller marks them stale (a newer generation) and drops
 * them when they reach the top. push and pop return the steps they took (a counter of work).
 */
export interface DueEntry<T> { due: number; gen: number; item: T; seq: number }

export class DueHeap<T> {
  private h: DueEntry<T>[] = [];
  private seq = 0;

  get size(): number { return this.h.length; }

  peek(): DueEntry<T> | undefined { return this.h[0]; }

  push(due: number, gen: number, item: T): number {
    const h = this.h;
    const x = { due, gen, item, seq: ++this.seq };
    let i = h.length;
    let steps = 1;
    h.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(x, h[p])) break;
      h[i] = h[p];
      i = p;
      steps++;
    }
    h[i] = x;
    return steps;
  }

  /** Removes the top; returns the steps taken. */
  pop(): number {
    const h = this.h;
    const last = h.pop();
    if (last === undefined || h.length === 0) return 1;
    let i = 0;
    let steps = 1;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && before(h[l + 1], h[l]) ? l + 1 : l;
      if (!before(h[c], last)) break;
      h[i] = h[c];
      i = c;
      steps++;
    }
    h[i] = last;
    return steps;
  }
}

function before<T>(a: DueEntry<T>, b: DueEntry<T>): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
