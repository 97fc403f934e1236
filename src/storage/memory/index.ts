// In-memory persistence (`--data-dir :memory:`): keeps nothing across processes.
//
// Within one instance it behaves like the durable stores, so the shared persistence contract runs against it:
// it keeps the last compacted snapshot and every mutation committed after it, and load() returns them. That
// log is bounded by wantsCompaction(), which asks the core for a snapshot after `compactAfterMutations`.
// Mutations and snapshots are kept by reference: the core never changes an object once it is committed.
// Each instance is a new data set with its own epoch: a server on :memory: starts a new history on every start.

import { SwitchboardError } from "../../core/errors.js";
import type { LoadResult, Persistence } from "../../core/ports.js";
import type { Mutation, Snapshot } from "../../core/types.js";
import { newEpoch } from "../epoch.js";

export interface MemoryPersistenceOptions {
  /** wantsCompaction() turns true once this many mutations were committed since the last snapshot. */
  readonly compactAfterMutations?: number;
}

export function createMemoryPersistence(options: MemoryPersistenceOptions = {}): Persistence {
  const compactAfterMutations = options.compactAfterMutations ?? 100_000;
  let snapshot: Snapshot | null = null;
  let tail: Mutation[] = [];
  let closed = false;
  const epoch = newEpoch();

  function assertOpen(): void {
    if (closed) throw new SwitchboardError("STORAGE_UNAVAILABLE", "the memory store is closed");
  }

  return {
    name: "memory",

    async load(): Promise<LoadResult> {
      assertOpen();
      return { epoch, snapshot, tail: tail.slice() };
    },

    async commit(mutations: readonly Mutation[]): Promise<void> {
      assertOpen();
      // A loop, not push(...mutations): a large group commit would overflow the argument stack.
      for (const m of mutations) tail.push(m);
    },

    async compact(next: Snapshot): Promise<void> {
      assertOpen();
      snapshot = next;
      tail = [];
    },

    wantsCompaction: () => tail.length >= compactAfterMutations,

    isHealthy: () => !closed,

    async close(): Promise<void> {
      closed = true;
    },
  };
}
