/** A binary max-heap keyed by a number; used by the branch-and-bound drivers to refine the worst box first. */
export class MaxHeap<T> {
  private keys: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(key: number, item: T): void {
    const { keys, items } = this;
    let i = items.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] >= key) break;
      keys[i] = keys[p];
      items[i] = items[p];
      i = p;
    }
    keys[i] = key;
    items[i] = item;
  }

  peekKey(): number {
    return this.keys.length ? this.keys[0] : -Infinity;
  }

  pop(): T | undefined {
    const { keys, items } = this;
    if (!items.length) return undefined;
    const top = items[0];
    const lk = keys.pop()!;
    const li = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const a = 2 * i + 1;
        if (a >= n) break;
        const b = a + 1;
        const c = b < n && keys[b] > keys[a] ? b : a;
        if (keys[c] <= lk) break;
        keys[i] = keys[c];
        items[i] = items[c];
        i = c;
      }
      keys[i] = lk;
      items[i] = li;
    }
    return top;
  }

  /** Every item still queued (in no particular order); the heap is left empty. */
  drain(): T[] {
    const out = this.items;
    this.items = [];
    this.keys = [];
    return out;
  }
}
