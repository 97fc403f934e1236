// An async-iterable buffer between a poll loop and a reader, with per-key coalescing of replaceable items.

interface Node<T> {
  item: T;
  key: string | undefined;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
}

/**
 * Items are delivered in the order they were pushed. An item pushed with a key replaces (removes) a
 * still-unread *replaceable* item with the same key and goes to the end, so a slow reader gets the latest
 * value per key; an item pushed as not replaceable is never removed (deletions are never dropped).
 * One reader: iterate it once.
 */
export class ItemQueue<T> implements AsyncIterableIterator<T> {
  private head: Node<T> | undefined;
  private tail: Node<T> | undefined;
  private readonly replaceable = new Map<string, Node<T>>();
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private failure: { error: unknown } | undefined;
  private ended = false;
  private count = 0;

  /**
   * @param onNext called when the reader asks for the next item (it has moved past the previous one).
   * @param onReturn called when the reader leaves early (break, throw in a for-await body).
   */
  constructor(
    private readonly onNext: () => void = () => {},
    private readonly onReturn: () => void = () => {},
  ) {}

  get size(): number {
    return this.count;
  }

  get closed(): boolean {
    return this.ended || this.failure !== undefined;
  }

  push(item: T, key?: string, replaceable = false): void {
    if (this.closed) return;
    if (key !== undefined) {
      const old = this.replaceable.get(key);
      if (old) this.unlink(old);
    }
    if (this.waiter && this.count === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    const node: Node<T> = { item, key, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count += 1;
    if (key !== undefined && replaceable) this.replaceable.set(key, node);
  }

  /** Ends the iteration after the buffered items have been read. */
  end(): void {
    if (this.closed) return;
    this.ended = true;
    this.settleWaiter();
  }

  /** Ends the iteration at once: buffered items are dropped and the next read returns done. */
  close(): void {
    this.head = this.tail = undefined;
    this.replaceable.clear();
    this.count = 0;
    this.ended = true;
    this.settleWaiter();
  }

  /** Ends the iteration with an error, thrown to the reader after the buffered items. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    this.onNext();
    const node = this.head;
    if (node) {
      this.unlink(node);
      return Promise.resolve({ value: node.item, done: false });
    }
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      this.ended = true;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error("ItemQueue: one reader at a time"));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.onReturn();
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private settleWaiter(): void {
    if (!this.waiter || this.count > 0) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      this.ended = true;
      w.reject(error);
    } else {
      w.resolve({ value: undefined, done: true });
    }
  }

  private unlink(node: Node<T>): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = undefined;
    if (node.key !== undefined && this.replaceable.get(node.key) === node) this.replaceable.delete(node.key);
    this.count -= 1;
  }
}
