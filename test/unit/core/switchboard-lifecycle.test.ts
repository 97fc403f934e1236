// Switchboard lifecycle: close answers waits and refuses writes; state, revisions and request ids survive reopen and compaction.

import { describe, expect, it } from "vitest";
import { consumerPoll, providerPoll } from "../../../src/core/polls.js";
import { internals, type Switchboard } from "../../../src/core/switchboard.js";
import { FakeClock } from "../../helpers/fake-clock.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
import { flush, track } from "../../helpers/flush.js";
import { openBoard } from "./fixture.js";

/** Everything a client could observe, for comparing a board before and after a restart. */
function observe(sb: Switchboard) {
  return {
    revision: sb.revision,
    registers: sb.list("", 1000).registers,
    requests: sb.pendingRequests({ prefixes: [""] }),
    queued: sb.stats().queuedRequests,
    deadlines: sb.stats().deadlines,
  };
}

/** A bit of everything: sets with metadata and TTLs, requests, an acknowledgement, a delete, a refresh. */
async function history(sb: Switchboard): Promise<void> {
  await sb.set([
    { name: "dev/a", value: { on: true }, metadata: { room: "hall" } },
    { name: "dev/b", value: 1, ttlMs: 60_000 },
    { name: "dev/c", value: "x" },
  ]);
  const reqs = await sb.request([
    { name: "dev/a", value: { on: false }, requester: "app" },
    { name: "dev/a", value: { on: true } },
    { name: "dev/c", value: "y" },
  ]);
  await providerPoll(sb, { names: ["dev/a"] }, reqs[0]!.id, { waitMs: 0 });
  await sb.delete(["dev/c"]);
  await sb.set([{ name: "dev/b", value: 1, ttlMs: 120_000 }]); // refresh only
  await sb.set([{ name: "dev/a", value: { on: true }, metadata: { room: "kitchen" } }]);
}

describe("close", () => {
  it("answers held waits with closed, clears every timer and closes the store", async () => {
    const { sb, clock, store } = await openBoard();
    const consumer = track(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 60_000 }));
    const provider = track(internals.wait(sb, "provider", { prefixes: [""] }, { timeoutMs: 60_000 }));
    await flush();
    expect(clock.pendingTimers).toBe(2); // the sweep, and one deadline timer for both waits
    await sb.close();
    expect(consumer.value).toEqual({ reason: "closed" });
    expect(provider.value).toEqual({ reason: "closed" });
    expect(sb.stats().waiters).toEqual({ consumer: 0, provider: 0, stream: 0 });
    expect(clock.pendingTimers).toBe(0);
    expect(store.closed).toBe(true);
    expect(sb.closing).toBe(true);
    await expect(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 1000 })).resolves.toEqual({
      reason: "closed",
    });
    await sb.close(); // twice is harmless
  });

  it("rejects later writes with SHUTTING_DOWN", async () => {
    const { sb, store } = await openBoard();
    await sb.set([{ name: "a", value: 1 }]);
    const [req] = await sb.request([{ name: "a", value: 2 }]);
    await sb.close();
    const commits = store.commits.length;
    await expect(sb.set([{ name: "a", value: 2 }])).rejects.toMatchObject({
      code: "SHUTTING_DOWN",
      kind: "unavailable",
    });
    await expect(sb.delete(["a"])).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    await expect(sb.request([{ name: "a", value: 3 }])).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    await expect(providerPoll(sb, { names: ["a"] }, req!.id, { waitMs: 0 })).rejects.toMatchObject({
      code: "SHUTTING_DOWN",
    });
    expect(store.commits.length).toBe(commits);
    // Reads still answer from memory.
    const res = await consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: 10_000 });
    expect(res.registers).toEqual([{ name: "a", found: true, register: sb.get("a") }]);
  });

  it("waits for a commit in flight, and refuses writes still queued behind it", async () => {
    const { sb, store } = await openBoard();
    store.hold();
    const inFlight = track(sb.set([{ name: "a", value: 1 }]));
    const queued = track(sb.set([{ name: "a", value: 2 }])); // waits for a's guard
    await flush();
    const closing = track(sb.close());
    await flush();
    expect(closing.settled).toBe(false);
    expect(store.closed).toBe(false);
    store.release();
    await closing.promise;
    expect(inFlight.error).toBeUndefined();
    expect(queued.error).toMatchObject({ code: "SHUTTING_DOWN" });
    expect(sb.get("a")!.value).toBe(1);
    expect(store.log.map((m) => m.type)).toEqual(["set"]);
    expect(store.closed).toBe(true);
  });
});

describe("restart", () => {
  it("keeps state, revision and request ids across a reopen over the same store", async () => {
    const clock = new FakeClock();
    const store = new FakePersistence();
    const first = await openBoard({ store, clock });
    await history(first.sb);
    const before = observe(first.sb);
    const lastId = Math.max(...first.store.committedMutations().map((m) => (m.type === "request" ? m.request.id : 0)));
    await first.sb.close();

    const second = await openBoard({ store, clock });
    const { sb } = second;
    expect(store.loads).toBe(2);
    expect(observe(sb)).toEqual(before);
    expect(sb.get("dev/b")!.expiresAt).toBe(clock.now() + 120_000); // the refresh survived
    // Acknowledged requests stay dropped: the provider sees only what it has not acknowledged.
    const pending = await providerPoll(sb, { names: ["dev/a"] }, undefined, { waitMs: 0 });
    expect(pending.requests).toEqual(before.requests.filter((r) => r.name === "dev/a"));
    expect(pending.requests).toHaveLength(1);
    // Numbering carries on: never a reused revision or request id.
    const [req] = await sb.request([{ name: "dev/a", value: "next" }]);
    expect(req!.id).toBe(lastId + 1);
    expect(sb.revision).toBe(before.revision + 1);
    await sb.close();
  });

  it("resumes a watch from the revision it had before the restart, and resyncs older ones", async () => {
    const clock = new FakeClock();
    const store = new FakePersistence();
    const first = await openBoard({ store, clock });
    await first.sb.set([{ name: "a", value: 1 }]);
    await first.sb.set([{ name: "a", value: 2 }]);
    const index = first.sb.revision;
    await first.sb.close();
    const { sb } = await openBoard({ store, clock });
    const held = track(consumerPoll(sb, { names: ["a"] }, index, { waitMs: 30_000 }));
    const old = await consumerPoll(sb, { names: ["a"] }, index - 1, { waitMs: 30_000 });
    expect(old.resync).toBe(true);
    await flush();
    expect(held.settled).toBe(false);
    await sb.set([{ name: "a", value: 3 }]);
    await flush();
    expect(held.value).toMatchObject({ index: index + 1, resync: false });
    await sb.close();
  });

  it("gives the same state after compact() and a reopen, with later writes replayed from the log", async () => {
    const clock = new FakeClock();
    const store = new FakePersistence();
    const first = await openBoard({ store, clock });
    await history(first.sb);
    await first.sb.compact();
    expect(store.log).toEqual([]);
    expect(store.snapshot).toMatchObject({ revision: first.sb.revision });
    // Writes after the snapshot, a refresh among them.
    await first.sb.set([{ name: "dev/z", value: 0, ttlMs: 1000 }]);
    await first.sb.set([{ name: "dev/z", value: 0, ttlMs: 50_000 }]);
    await first.sb.request([{ name: "dev/z", value: 1 }]);
    expect(store.log.map((m) => m.type)).toEqual(["set", "refresh", "request"]);
    const before = observe(first.sb);
    await first.sb.close();

    const { sb } = await openBoard({ store, clock });
    expect(observe(sb)).toEqual(before);
    await sb.compact();
    await sb.close();
    const third = await openBoard({ store, clock });
    expect(observe(third.sb)).toEqual(before);
    await third.sb.close();
  });

  it("compacts on its own when the store asks for it", async () => {
    const { sb, store } = await openBoard();
    await sb.set([{ name: "a", value: 1 }]);
    expect(store.compactions).toHaveLength(0);
    store.wantCompaction = true;
    await sb.set([{ name: "b", value: 1 }]);
    store.wantCompaction = false;
    await flush();
    expect(store.compactions).toHaveLength(1);
    expect(store.compactions[0]).toMatchObject({ revision: sb.revision });
    expect(store.compactions[0]!.registers.map((r) => r.name).sort()).toEqual(["a", "b"]);
    await sb.close();
  });
});
