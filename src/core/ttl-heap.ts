// Deadlines by register name in an indexed binary min-heap: set/refresh/remove O(log n), popping due entries O(expired · log n).

interface Entry {
  name: string;
  at: number;
}

export class DeadlineHeap {
  readonly #heap: Entry[] = [];
  readonly #pos = new Map<string, number>();

  get size(): number {
    return this.#heap.length;
  }

  has(name: string): boolean {
    return this.#pos.has(name);
  }

  get(name: string): number | undefined {
    const i = this.#pos.get(name);
    return i === undefined ? undefined : this.#heap[i]!.at;
  }

  /** Earliest deadline, or undefined when empty. */
  peek(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** Inserts or moves a deadline. */
  set(name: string, at: number): void {
    const i = this.#pos.get(name);
    if (i === undefined) {
      this.#heap.push({ name, at });
      this.#pos.set(name, this.#heap.length - 1);
      this.#up(this.#heap.length - 1);
      return;
    }
    const entry = this.#heap[i]!;
    const old = entry.at;
    entry.at = at;
    if (at < old) this.#up(i);
    else this.#down(i);
  }

  delete(name: string): boolean {
    const i = this.#pos.get(name);
    if (i === undefined) return false;
    const last = this.#heap.pop()!;
    this.#pos.delete(name);
    if (i < this.#heap.length) {
      this.#heap[i] = last;
      this.#pos.set(last.name, i);
      this.#up(i);
      this.#down(this.#pos.get(last.name)!);
    }
    return true;
  }

  /**
   * Names whose deadline is <= now, earliest first; they stay in the heap until deleted. With a
   * limit, at most that many due names (not necessarily the earliest ones), still sorted.
   */
  due(now: number, limit = Number.POSITIVE_INFINITY): string[] {
    const out: Entry[] = [];
    // Walk the heap as a tree, visiting only due nodes: O(expired).
    const stack = this.#heap.length > 0 ? [0] : [];
    while (stack.length > 0 && out.length < limit) {
      const i = stack.pop()!;
      const e = this.#heap[i];
      if (e === undefined || e.at > now) continue;
      out.push(e);
      stack.push(2 * i + 2, 2 * i + 1);
    }
    // The walk visits the heap in tree order, not deadline order.
    return out.sort((a, b) => a.at - b.at).map((e) => e.name);
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p]!;
      if (pe.at <= e.at) break;
      h[i] = pe;
      this.#pos.set(pe.name, i);
      i = p;
    }
    h[i] = e;
    this.#pos.set(e.name, i);
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const e = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.at < h[l]!.at ? r : l;
      const ce = h[c]!;
      if (ce.at >= e.at) break;
      h[i] = ce;
      this.#pos.set(ce.name, i);
      i = c;
    }
    h[i] = e;
    this.#pos.set(e.name, i);
  }
}
