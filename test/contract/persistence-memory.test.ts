// Runs the shared persistence contract against the memory store, plus what only it does.

import { describe, expect, it } from "vitest";
import { createMemoryPersistence } from "../../src/storage/memory/index.js";
import { describePersistenceContract, Script, workload } from "./persistence.js";

describePersistenceContract(
  "memory",
  async () => ({ open: async () => createMemoryPersistence(), cleanup: async () => undefined }),
  { survivesRestart: false },
);

describe("memory store", () => {
  it("asks for a compaction once its log reaches compactAfterMutations, and not after one", async () => {
    const store = createMemoryPersistence({ compactAfterMutations: 10 });
    await store.load();
    const s = new Script();
    await store.commit(workload(s, 9));
    expect(store.wantsCompaction?.()).toBe(false);
    await store.commit(workload(s, 1));
    expect(store.wantsCompaction?.()).toBe(true);
    await store.compact({ revision: s.revision, lastRequestId: s.requestId, registers: [], requests: [] });
    expect(store.wantsCompaction?.()).toBe(false);
    expect((await store.load()).tail).toEqual([]);
  });

  it("a new instance starts empty", async () => {
    const first = createMemoryPersistence();
    await first.commit(workload(new Script(), 3));
    expect(await createMemoryPersistence().load()).toStrictEqual({
      epoch: expect.any(String),
      snapshot: null,
      tail: [],
    });
  });
});
