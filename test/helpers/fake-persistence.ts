// An in-memory Persistence for core tests: records commits, can fail or hold them, and load() returns what was made durable.

import type { LoadResult, Persistence } from "../../src/core/ports.js";
import type { Mutation, Snapshot } from "../../src/core/types.js";

interface Held {
  readonly mutations: readonly Mutation[];
  readonly resolve: () => void;
}

export class FakePersistence implements Persistence {
  readonly name = "fake";
  /** Every commit() call, in call order (failed and held ones too). */
  readonly commits: Mutation[][] = [];
  /** Every compact() call's snapshot. */
  readonly compactions: Snapshot[] = [];
  /** Set to make wantsCompaction() answer true. */
  wantCompaction = false;
  loads = 0;
  closed = false;
  /** The epoch load() answers; a test changes it to simulate a store that lost its data set. */
  epoch = "fake-epoch-0001";
  #snapshot: Snapshot | null = null;
  #log: Mutation[] = [];
  #failures: unknown[] = [];
  #holding = false;
  #held: Held[] = [];

  /** Durable mutations after the snapshot, in commit order (copies). */
  get log(): Mutation[] {
    return structuredClone(this.#log);
  }
  get snapshot(): Snapshot | null {
    return structuredClone(this.#snapshot);
  }
  /** Commits waiting for release(). */
  get held(): number {
    return this.#held.length;
  }

  /** Makes the next commit() reject with `err`; calls stack up, one failure per commit. */
  failNext(err: unknown = new Error("disk on fire")): void {
    this.#failures.push(err);
  }

  /** From now on commit() waits until release(): nothing it carries is durable before then. */
  hold(): void {
    this.#holding = true;
  }

  /** Makes every held commit durable, in order, and stops holding. */
  release(): void {
    this.#holding = false;
    const held = this.#held;
    this.#held = [];
    for (const h of held) {
      this.#log.push(...structuredClone(h.mutations));
      h.resolve();
    }
  }

  async load(): Promise<LoadResult> {
    this.loads++;
    return structuredClone({ epoch: this.epoch, snapshot: this.#snapshot, tail: this.#log });
  }

  commit(mutations: readonly Mutation[]): Promise<void> {
    this.commits.push(structuredClone([...mutations]));
    if (this.#failures.length > 0) return Promise.reject(this.#failures.shift());
    if (this.#holding) return new Promise<void>((resolve) => this.#held.push({ mutations, resolve }));
    this.#log.push(...structuredClone(mutations));
    return Promise.resolve();
  }

  async compact(snapshot: Snapshot): Promise<void> {
    this.compactions.push(structuredClone(snapshot));
    this.#snapshot = structuredClone(snapshot);
    this.#log = [];
  }

  wantsCompaction(): boolean {
    return this.wantCompaction;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Mutations of every commit call, flattened. */
  committedMutations(): Mutation[] {
    return this.commits.flat();
  }
}
