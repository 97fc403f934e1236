// The shared Persistence contract: the same scenarios run against every storage adapter (memory, file, mongo …).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../src/core/errors.js";
import type { LoadResult, Persistence } from "../../src/core/ports.js";
import { RegisterState } from "../../src/core/state.js";
import type {
  AckReason,
  ChangeRequest,
  FinishedOutcome,
  Json,
  JsonObject,
  Mutation,
  Register,
  Snapshot,
} from "../../src/core/types.js";

export interface PersistenceHarness {
  /** A fresh instance over the SAME underlying storage as previous open() calls in this test (simulates a restart). */
  open(): Promise<Persistence>;
  cleanup(): Promise<void>;
}

/** The state a LoadResult stands for, in a shape that deep equality compares regardless of storage order. */
export interface ReplayedState {
  revision: number;
  lastRequestId: number;
  registers: Record<string, Register>;
  /** Pending change requests per register, in queue order; registers without any are absent. */
  requests: Record<string, ChangeRequest[]>;
}

/** Rebuilds the state from a snapshot and the mutations after it with the core's own state machine (the oracle). */
export function replay(result: Pick<LoadResult, "snapshot" | "tail">): ReplayedState {
  const state = result.snapshot ? RegisterState.fromSnapshot(result.snapshot) : new RegisterState();
  for (const m of result.tail) state.apply(m);
  return {
    revision: state.revision,
    lastRequestId: state.lastRequestId,
    registers: sortedRecord(state.registers),
    requests: sortedRecord(
      new Map(
        [...state.queues].map(([name, queue]) => [
          name,
          queue.map((r) => {
            const at = state.delivered.get(r.id);
            return at === undefined ? r : { ...r, deliveredAt: at };
          }),
        ]),
      ),
    ),
  };
}

function sortedRecord<T>(map: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The snapshot the core would hand to compact() in this state. */
export function snapshotOf(state: ReplayedState): Snapshot {
  return {
    revision: state.revision,
    lastRequestId: state.lastRequestId,
    registers: Object.values(state.registers),
    requests: Object.values(state.requests).flat(),
  };
}

/** Produces mutations the way the core does: one global revision, per-register versions, increasing request ids. */
export class Script {
  revision = 0;
  requestId = 0;
  now = 1_700_000_000_000;
  readonly #registers = new Map<string, Register>();

  has(name: string): boolean {
    return this.#registers.has(name);
  }

  set(name: string, value: Json, options: { metadata?: JsonObject; expiresAt?: number | null } = {}): Mutation {
    const prev = this.#registers.get(name);
    const revision = ++this.revision;
    this.now += 7;
    const now = this.now;
    const register: Register = {
      name,
      value,
      metadata: options.metadata ?? prev?.metadata ?? {},
      createRevision: prev?.createRevision ?? revision,
      modRevision: revision,
      version: (prev?.version ?? 0) + 1,
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
      expiresAt: options.expiresAt === undefined ? (prev?.expiresAt ?? null) : options.expiresAt,
    };
    this.#registers.set(name, register);
    return { type: "set", name, revision, register };
  }

  delete(name: string): Mutation {
    this.#registers.delete(name);
    return { type: "delete", name, revision: ++this.revision };
  }

  expire(name: string): Mutation {
    this.#registers.delete(name);
    return { type: "expire", name, revision: ++this.revision };
  }

  request(name: string, value: Json, requester?: string): Mutation {
    const id = ++this.requestId;
    this.now += 3;
    const requestedAt = this.now;
    const request: ChangeRequest =
      requester === undefined ? { id, name, value, requestedAt } : { id, name, value, requestedAt, requester };
    return { type: "request", name, revision: ++this.revision, request };
  }

  ack(name: string, upTo: number, reason: AckReason = "acknowledged"): Mutation {
    return { type: "ack", name, revision: ++this.revision, upTo, reason };
  }

  refresh(name: string, expiresAt: number | null): Mutation {
    const prev = this.#registers.get(name);
    if (prev !== undefined) this.#registers.set(name, { ...prev, expiresAt });
    return { type: "refresh", name, expiresAt };
  }
}

/**
 * `count` mutations over a few registers: repeated sets, requests, acks, refreshes, deletes and expiries.
 * Replaying them in any other order (or dropping one) gives a different state.
 */
export function workload(s: Script, count: number, prefix = "w"): Mutation[] {
  const out: Mutation[] = [];
  for (let i = 0; out.length < count; i++) {
    const name = `${prefix}/${i % 7}`;
    switch (i % 6) {
      case 0:
      case 1:
        out.push(
          s.set(name, { i, tags: [`t${i}`], nested: { even: i % 2 === 0 } }, { expiresAt: i % 3 ? null : s.now }),
        );
        break;
      case 2:
        out.push(s.request(name, i, i % 4 === 0 ? `client-${i}` : undefined));
        break;
      case 3:
        out.push(s.has(name) ? s.refresh(name, s.now + 60_000 + i) : s.set(name, `created-${i}`));
        break;
      case 4:
        out.push(s.ack(name, s.requestId - (i % 3), i % 5 === 0 ? "deleted" : "acknowledged"));
        break;
      default:
        if (i % 12 === 5) out.push(s.delete(name));
        else if (i % 18 === 11) out.push(s.expire(name));
        else out.push(s.set(name, `v${i}`, { metadata: { i, owner: "contract" } }));
    }
  }
  return out;
}

/** JSON that trips naive line framing or encoding: newlines, separators, quotes, NUL, astral characters. */
export const TRICKY_VALUES: readonly Json[] = [
  "line one\nline two\r\n",
  'tab\t"quoted" \\ back\\slash',
  "unicode é 日本語 🌍 \u2028 \u2029",
  "\u0000 nul and \u001f unit separator",
  "",
  "x".repeat(20_000),
  1.5,
  -42,
  1e300,
  0,
  true,
  false,
  null,
  [],
  {},
  { deep: { deeper: [1, [2, [3, { deepest: "yes" }]]] }, "key with spaces": "ok", ключ: "значение" },
];

/** The final outcomes a load stands for: the snapshot's, then those each ack of the tail carries (by id). */
export function historyOf(loaded: LoadResult): FinishedOutcome[] {
  const out = new Map((loaded.snapshot?.outcomes ?? []).map((o) => [o.id, o]));
  for (const m of loaded.tail) if (m.type === "finish") for (const o of m.outcomes) out.set(o.id, o);
  return [...out.values()].sort((a, b) => a.id - b.id);
}

/** The loaded state equals `snapshot` + `after`; a store that returns no snapshot must return exactly `after`. */
function expectLoaded(loaded: LoadResult, expected: { snapshot: Snapshot | null; after: readonly Mutation[] }): void {
  expect(replay(loaded)).toStrictEqual(replay({ snapshot: expected.snapshot, tail: expected.after }));
  if (expected.snapshot === null && loaded.snapshot === null) expect(loaded.tail).toStrictEqual(expected.after);
}

export function describePersistenceContract(
  name: string,
  makeHarness: () => Promise<PersistenceHarness>,
  options: { survivesRestart?: boolean } = {},
): void {
  const survivesRestart = options.survivesRestart ?? true;
  const title = survivesRestart
    ? `persistence contract: ${name}`
    : `persistence contract: ${name} (keeps nothing across processes: a "restart" reloads the same instance)`;

  describe(title, () => {
    let harness: PersistenceHarness;
    let opened: Persistence[];

    beforeEach(async () => {
      harness = await makeHarness();
      opened = [];
    });

    afterEach(async () => {
      // close() is idempotent: stores closed by a test are closed again here.
      for (const store of opened) await store.close();
      await harness.cleanup();
    });

    async function start(): Promise<{ store: Persistence; loaded: LoadResult }> {
      const store = await harness.open();
      opened.push(store);
      return { store, loaded: await store.load() };
    }

    async function restart(store: Persistence): Promise<{ store: Persistence; loaded: LoadResult }> {
      if (!survivesRestart) return { store, loaded: await store.load() };
      await store.close();
      return start();
    }

    it("an empty store loads no snapshot and no mutations, also after a restart", async () => {
      const { store, loaded } = await start();
      expect(loaded).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
      if (store.isHealthy) expect(store.isHealthy()).toBe(true);
      const again = await restart(store);
      expect(again.loaded).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
    });

    it("every load answers the data set's epoch: the same across restarts, another for another data set", async () => {
      const { store, loaded } = await start();
      expect(loaded.epoch).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      const s = new Script();
      await store.commit([s.set("a", 1)]);
      const again = await restart(store);
      expect(again.loaded.epoch).toBe(loaded.epoch);
      await again.store.compact(snapshotOf(replay(again.loaded)));
      const compacted = await restart(again.store);
      expect(compacted.loaded.epoch).toBe(loaded.epoch);
      const other = await makeHarness();
      try {
        const fresh = await other.open();
        try {
          expect((await fresh.load()).epoch).not.toBe(loaded.epoch);
        } finally {
          await fresh.close();
        }
      } finally {
        await other.cleanup();
      }
    });

    it("register TTLs (ttlMs) round-trip in sets, refreshes and snapshots", async () => {
      const { store } = await start();
      const s = new Script();
      const set = s.set("dev", 1, { expiresAt: s.now + 10_000 });
      const withTtl: Mutation = set.type === "set" ? { ...set, register: { ...set.register, ttlMs: 10_000 } } : set;
      const refresh: Mutation = { type: "refresh", name: "dev", expiresAt: s.now + 20_000, ttlMs: 20_000 };
      await store.commit([withTtl]);
      await store.commit([refresh]);
      const restarted = await restart(store);
      const state = replay(restarted.loaded);
      expect(state.registers.dev).toMatchObject({ expiresAt: s.now + 20_000 });
      if (restarted.loaded.snapshot === null) expect(restarted.loaded.tail).toStrictEqual([withTtl, refresh]);
      const snapshot = snapshotOf(state);
      const kept = { ...snapshot, registers: snapshot.registers.map((r) => ({ ...r, ttlMs: 20_000 })) };
      await restarted.store.compact(kept);
      const after = await restart(restarted.store);
      expect(replay(after.loaded).registers.dev).toStrictEqual({ ...state.registers.dev, ttlMs: 20_000 });
    });

    it("delivery marks and final outcomes (the request history) survive restarts and compaction", async () => {
      const { store } = await start();
      const s = new Script();
      const set = s.set("dev/lamp", "off");
      const r1 = s.request("dev/lamp", "on", "app");
      const r2 = s.request("dev/lamp", "dim");
      const id1 = r1.type === "request" ? r1.request.id : 0;
      const id2 = r2.type === "request" ? r2.request.id : 0;
      const done: FinishedOutcome = {
        id: id1,
        name: "dev/lamp",
        status: "rejected",
        requestedAt: s.now - 3,
        requester: "app",
        requestKey: "k-1",
        finishedAt: s.now + 5,
        result: { $odd: "key", "a.b": [1, null, "x"] },
        message: "not while the door is open",
      };
      const ack: Mutation = {
        type: "ack",
        name: "dev/lamp",
        revision: ++s.revision,
        upTo: id1,
        ids: [id1],
        reason: "acknowledged",
        outcomes: [{ id: id1, status: "rejected", message: "not while the door is open" }],
      };
      await store.commit([set, r1, r2]);
      await store.commit([{ type: "deliver", name: "dev/lamp", ids: [id1, id2], at: s.now + 1 }]);
      await store.commit([ack, { type: "finish", name: "dev/lamp", outcomes: [done] }]);
      const restarted = await restart(store);
      const state = replay(restarted.loaded);
      expect(state.requests["dev/lamp"]).toEqual([expect.objectContaining({ id: id2, deliveredAt: s.now + 1 })]);
      expect(historyOf(restarted.loaded)).toStrictEqual([done]);
      await restarted.store.compact({ ...snapshotOf(state), outcomes: [done] });
      const compacted = await restart(restarted.store);
      expect(replay(compacted.loaded)).toStrictEqual(state);
      expect(historyOf(compacted.loaded)).toStrictEqual([done]);
      // A compaction whose history no longer holds an outcome (pruned) drops it.
      await compacted.store.compact(snapshotOf(state));
      const pruned = await restart(compacted.store);
      expect(historyOf(pruned.loaded)).toStrictEqual([]);
    });

    it("an empty commit is accepted and stores nothing", async () => {
      const { store } = await start();
      await store.commit([]);
      const { loaded } = await restart(store);
      expect(loaded).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
    });

    it("commit then load after a restart returns the same mutations in order", async () => {
      const { store } = await start();
      const s = new Script();
      const first = [s.set("a", 1), s.set("b", { x: 1 }, { expiresAt: s.now + 1000 }), s.request("a", "on", "alice")];
      const second = [s.set("a", 2), s.request("a", "off"), s.ack("a", 1), s.refresh("b", s.now + 5000), s.delete("b")];
      await store.commit(first);
      await store.commit(second);
      const restarted = await restart(store);
      expectLoaded(restarted.loaded, { snapshot: null, after: [...first, ...second] });
      // Loading does not change what is stored.
      const twice = await restart(restarted.store);
      expectLoaded(twice.loaded, { snapshot: null, after: [...first, ...second] });
    });

    it("values, metadata and requesters round-trip exactly", async () => {
      const { store } = await start();
      const s = new Script();
      const committed = TRICKY_VALUES.flatMap((value, i) => [
        s.set(`tricky/${i}`, value, { metadata: { original: value, i } }),
        s.request(`tricky/${i}`, value, i % 2 === 0 ? `requester ${i} 🌍\n` : undefined),
      ]);
      await store.commit(committed);
      const { loaded } = await restart(store);
      expectLoaded(loaded, { snapshot: null, after: committed });
    });

    it("many commits of different sizes keep their order", async () => {
      let { store } = await start();
      const s = new Script();
      const committed: Mutation[] = [];
      for (let i = 0; i < 150; i++) {
        const batch = workload(s, (i % 9) + 1);
        committed.push(...batch);
        await store.commit(batch);
        if (i === 75) store = (await restart(store)).store;
      }
      const { loaded } = await restart(store);
      expectLoaded(loaded, { snapshot: null, after: committed });
    });

    it("a commit of 1,000 mutations loads back whole, and later commits after it", async () => {
      const { store } = await start();
      const s = new Script();
      const big = workload(s, 1000);
      const small = [s.set("after/big", "still here")];
      await store.commit(big);
      await store.commit(small);
      const { loaded } = await restart(store);
      expectLoaded(loaded, { snapshot: null, after: [...big, ...small] });
    });

    it("compact then load returns the snapshot plus the mutations committed after it", async () => {
      const { store } = await start();
      const s = new Script();
      const before = workload(s, 60);
      await store.commit(before);
      const snapshot = snapshotOf(replay({ snapshot: null, tail: before }));
      await store.compact(snapshot);
      const after = workload(s, 40);
      await store.commit(after.slice(0, 10));
      await store.commit(after.slice(10));
      const restarted = await restart(store);
      expectLoaded(restarted.loaded, { snapshot, after });
      // The store keeps appending correctly after a restart that followed a compaction.
      const more = workload(s, 5, "more");
      await restarted.store.commit(more);
      const { loaded } = await restart(restarted.store);
      expectLoaded(loaded, { snapshot, after: [...after, ...more] });
    });

    it("compacts twice, back to back and across a restart", async () => {
      let { store } = await start();
      const s = new Script();
      const a = workload(s, 30, "a");
      await store.commit(a);
      await store.compact(snapshotOf(replay({ snapshot: null, tail: a })));
      store = (await restart(store)).store;
      const b = workload(s, 30, "b");
      await store.commit(b);
      const second = snapshotOf(replay({ snapshot: null, tail: [...a, ...b] }));
      await store.compact(second);
      await store.compact(second);
      const c = workload(s, 20, "c");
      await store.commit(c);
      const { loaded } = await restart(store);
      expectLoaded(loaded, { snapshot: second, after: c });
    });

    it("revision and lastRequestId survive when no register holds them", async () => {
      const { store } = await start();
      const s = new Script();
      const gone = [s.set("a", 1), s.request("a", 1), s.request("a", 2), s.request("a", 3)];
      const cleared = [s.ack("a", 3, "deleted"), s.delete("a")];
      await store.commit(gone);
      await store.commit(cleared);
      const first = await restart(store);
      expect(replay(first.loaded)).toStrictEqual({ revision: 6, lastRequestId: 3, registers: {}, requests: {} });

      await first.store.compact({ revision: 6, lastRequestId: 3, registers: [], requests: [] });
      const second = await restart(first.store);
      expect(replay(second.loaded)).toStrictEqual({ revision: 6, lastRequestId: 3, registers: {}, requests: {} });

      const next = s.set("b", "new");
      await second.store.commit([next]);
      const third = await restart(second.store);
      const state = replay(third.loaded);
      expect(state.revision).toBe(7);
      expect(state.lastRequestId).toBe(3);
      expect(state.registers.b?.createRevision).toBe(7);
    });

    it("refresh mutations survive, including after a compaction (they carry no revision)", async () => {
      const { store } = await start();
      const s = new Script();
      const t = s.now;
      await store.commit([s.set("a", "v", { expiresAt: t + 1000 }), s.set("b", "w")]);
      await store.commit([s.refresh("a", t + 2000)]);
      const first = await restart(store);
      let state = replay(first.loaded);
      expect(state.registers.a?.expiresAt).toBe(t + 2000);
      expect(state.revision).toBe(2);

      await first.store.compact(snapshotOf(state));
      await first.store.commit([s.refresh("a", t + 3000), s.refresh("b", t + 500)]);
      await first.store.commit([s.refresh("a", null)]);
      const second = await restart(first.store);
      state = replay(second.loaded);
      expect(state.registers.a?.expiresAt).toBeNull();
      expect(state.registers.b?.expiresAt).toBe(t + 500);
      expect(state.revision).toBe(2);
    });

    // Only for stores that keep anything across close(); the memory store's own test checks the opposite.
    if (survivesRestart)
      it("close() then reopen keeps everything and takes new commits", async () => {
        const { store } = await start();
        const s = new Script();
        const a = workload(s, 12);
        await store.commit(a);
        await store.close();
        await store.close();
        const reopened = await start();
        expectLoaded(reopened.loaded, { snapshot: null, after: a });
        const b = workload(s, 12);
        await reopened.store.commit(b);
        await reopened.store.close();
        const { loaded } = await start();
        expectLoaded(loaded, { snapshot: null, after: [...a, ...b] });
      });

    it("commit after close() is rejected with STORAGE_UNAVAILABLE and stores nothing", async () => {
      const { store } = await start();
      const s = new Script();
      const kept = [s.set("a", 1)];
      await store.commit(kept);
      await store.close();
      const rejected = store.commit([s.set("a", 2)]);
      await expect(rejected).rejects.toBeInstanceOf(SwitchboardError);
      await expect(rejected).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      if (survivesRestart) {
        const { loaded } = await start();
        expectLoaded(loaded, { snapshot: null, after: kept });
      }
    });
  });
}
