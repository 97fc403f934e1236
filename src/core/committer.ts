// Group commit: writes that arrive while a commit runs share the next one (one fsync / one bulkWrite), then apply in order.

import PQueue from "p-queue";
import { SwitchboardError } from "./errors.js";
import type { Persistence } from "./ports.js";
import type { Mutation } from "./types.js";

interface PendingCommit {
  readonly mutations: readonly Mutation[];
  readonly apply: () => void;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommitter {
  readonly #queue = new PQueue({ concurrency: 1 });
  #pending: PendingCommit[] = [];
  #scheduled = false;
  /** Number of commit calls made (for tests and metrics). */
  commits = 0;

  constructor(readonly persistence: Persistence) {}

  /**
   * Makes `mutations` durable together with whatever else is pending, then calls `apply`
   * synchronously — in submission order across all callers — in the same run that resolves the
   * returned promise (so its continuation already sees the applied state). `apply` must not throw.
   */
  submit(mutations: readonly Mutation[], apply: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ mutations, apply, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        void this.#queue.add(() => this.#flush());
      }
    });
  }

  /** Runs `task` between commits (nothing is being committed while it runs). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.#queue.add(task) as Promise<T>;
  }

  /** Resolves when everything submitted so far has been committed or failed. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const all: Mutation[] = [];
    for (const p of batch) for (const m of p.mutations) all.push(m);
    try {
      this.commits++;
      await this.persistence.commit(all);
    } catch (err) {
      const e =
        err instanceof SwitchboardError
          ? err
          : new SwitchboardError("STORAGE_UNAVAILABLE", "the write could not be made durable; nothing was applied", {
              cause: err,
            });
      for (const p of batch) p.reject(e);
      return;
    }
    // Writers are resolved first and applied right after, in the same synchronous run: no
    // continuation sees the state before the apply, and the writers' continuations are queued
    // ahead of those of the long-polls the apply wakes — a writer is not answered after a fan-out
    // to thousands of consumers.
    for (const p of batch) p.resolve();
    for (const p of batch) p.apply();
  }
}
