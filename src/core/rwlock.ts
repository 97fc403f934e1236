// An async readers–writer lock (writers preferred, FIFO among writers, no starvation) and a keyed mutex built on it.

export type Release = () => void;

interface Pending {
  readonly write: boolean;
  readonly grant: (release: Release) => void;
  readonly reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Readers share the lock; a writer holds it alone. A waiting writer blocks new readers (writer
 * preference), and waiters are served in arrival order, so a stream of readers cannot starve a
 * writer and a stream of writers cannot starve the readers queued between them.
 */
export class RWLock {
  #readers = 0;
  #writer = false;
  readonly #queue: Pending[] = [];

  get readers(): number {
    return this.#readers;
  }
  get writing(): boolean {
    return this.#writer;
  }
  get waiting(): number {
    return this.#queue.length;
  }
  get idle(): boolean {
    return !this.#writer && this.#readers === 0 && this.#queue.length === 0;
  }

  /** Shared access. Resolves with a release function that must be called exactly once. */
  read(signal?: AbortSignal): Promise<Release> {
    if (!this.#writer && this.#queue.length === 0) {
      this.#readers++;
      return Promise.resolve(this.#releaser(false));
    }
    return this.#enqueue(false, signal);
  }

  /** Exclusive access. */
  write(signal?: AbortSignal): Promise<Release> {
    if (!this.#writer && this.#readers === 0 && this.#queue.length === 0) {
      this.#writer = true;
      return Promise.resolve(this.#releaser(true));
    }
    return this.#enqueue(true, signal);
  }

  /** Synchronous exclusive access when free right now, else null. */
  tryWrite(): Release | null {
    if (!this.#writer && this.#readers === 0 && this.#queue.length === 0) {
      this.#writer = true;
      return this.#releaser(true);
    }
    return null;
  }

  #enqueue(write: boolean, signal: AbortSignal | undefined): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      const pending: Pending = { write, grant: resolve, reject, signal, onAbort: undefined };
      if (signal) {
        pending.onAbort = () => {
          const i = this.#queue.indexOf(pending);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
          this.#drain();
        };
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.#queue.push(pending);
    });
  }

  #releaser(write: boolean): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (write) this.#writer = false;
      else this.#readers--;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#writer) {
      const next = this.#queue[0]!;
      if (next.write) {
        if (this.#readers > 0) return;
        this.#queue.shift();
        this.#writer = true;
        this.#settle(next, true);
        return;
      }
      this.#queue.shift();
      this.#readers++;
      this.#settle(next, false);
    }
  }

  #settle(p: Pending, write: boolean): void {
    if (p.signal && p.onAbort) p.signal.removeEventListener("abort", p.onAbort);
    p.grant(this.#releaser(write));
  }
}

/** One exclusive lock per key, created on demand and dropped when idle (no growth with the key space). */
export class KeyedMutex {
  readonly #locks = new Map<string, RWLock>();

  get size(): number {
    return this.#locks.size;
  }

  /** Locks every key (sorted, so two callers never deadlock) and returns one release for all. */
  async lockAll(keys: Iterable<string>): Promise<Release> {
    const sorted = [...new Set(keys)].sort();
    const releases: Release[] = [];
    try {
      for (const key of sorted) {
        const lock = this.#get(key);
        // Fast path: take a free lock without a microtask per key.
        const sync = lock.tryWrite();
        releases.push(sync ?? (await lock.write()));
      }
    } catch (err) {
      this.#releaseAll(sorted, releases);
      throw err;
    }
    return () => this.#releaseAll(sorted, releases);
  }

  #get(key: string): RWLock {
    let lock = this.#locks.get(key);
    if (!lock) {
      lock = new RWLock();
      this.#locks.set(key, lock);
    }
    return lock;
  }

  #releaseAll(keys: readonly string[], releases: Release[]): void {
    for (let i = 0; i < releases.length; i++) {
      releases[i]!();
      const key = keys[i]!;
      if (this.#locks.get(key)?.idle) this.#locks.delete(key);
    }
    releases.length = 0;
  }
}
