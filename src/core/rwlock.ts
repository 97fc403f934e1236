// The per-register write guard: an async FIFO mutex, abortable while waiting, and a keyed set of them.
//
// There is no reader side: every read of the core is synchronous against the applied state, so no read spans an
// await that a writer could interleave with; compaction's snapshot runs as a task of the committer's queue, which
// already excludes commits; a paged listing reads one page synchronously and resumes after the last name.

export type Release = () => void;

interface Pending {
  readonly grant: (release: Release) => void;
  readonly reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Exclusive access, granted in arrival order. */
export class Mutex {
  #held = false;
  readonly #queue: Pending[] = [];

  get locked(): boolean {
    return this.#held;
  }
  get waiting(): number {
    return this.#queue.length;
  }
  get idle(): boolean {
    return !this.#held && this.#queue.length === 0;
  }

  /** Resolves with a release function that must be called exactly once (later calls do nothing). */
  lock(signal?: AbortSignal): Promise<Release> {
    const now = this.tryLock();
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      const pending: Pending = { grant: resolve, reject, signal, onAbort: undefined };
      if (signal) {
        pending.onAbort = () => {
          const i = this.#queue.indexOf(pending);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.#queue.push(pending);
    });
  }

  /** Synchronous access when free right now (nobody holds or waits), else null. */
  tryLock(): Release | null {
    if (this.#held || this.#queue.length > 0) return null;
    this.#held = true;
    return this.#releaser();
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#held = false;
        return;
      }
      // Handed over without becoming free in between, so a tryLock() cannot jump the queue.
      if (next.signal && next.onAbort) next.signal.removeEventListener("abort", next.onAbort);
      next.grant(this.#releaser());
    };
  }
}

/** One mutex per key, created on demand and dropped when idle (no growth with the key space). */
export class KeyedMutex {
  readonly #locks = new Map<string, Mutex>();

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
        const sync = lock.tryLock();
        releases.push(sync ?? (await lock.lock()));
      }
    } catch (err) {
      this.#releaseAll(sorted, releases);
      throw err;
    }
    return () => this.#releaseAll(sorted, releases);
  }

  #get(key: string): Mutex {
    let lock = this.#locks.get(key);
    if (!lock) {
      lock = new Mutex();
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
