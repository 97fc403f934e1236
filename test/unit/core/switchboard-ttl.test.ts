// Switchboard TTLs: refresh without a revision, removal, sweep expiry with its precision, and expiry of what passed while down.

import { afterEach, describe, expect, it } from "vitest";
import { internals, type Switchboard } from "../../../src/core/switchboard.js";
import { FakeClock } from "../../helpers/fake-clock.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
import { flush, track } from "../../helpers/flush.js";
import { advance, openBoard } from "./fixture.js";

const open: Switchboard[] = [];
async function board(options: Parameters<typeof openBoard>[0] = {}) {
  const b = await openBoard(options);
  open.push(b.sb);
  return b;
}
afterEach(async () => {
  for (const sb of open.splice(0)) await sb.close();
});

describe("TTL refresh", () => {
  it("moves expiresAt only: no revision, no event, no consumer wake-up, but a refresh commit", async () => {
    const { sb, clock, store, events } = await board();
    const [first] = await sb.set([{ name: "a", value: 1, metadata: { m: 1 }, ttlMs: 10_000 }]);
    expect(first!.register.expiresAt).toBe(clock.now() + 10_000);
    await advance(clock, 3000, 1000);
    const rev = sb.revision;
    const waiter = track(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 60_000 }));
    const prefixWaiter = track(internals.wait(sb, "consumer", { prefixes: [""] }, { timeoutMs: 60_000 }));
    const [refreshed] = await sb.set([{ name: "a", value: 1, ttlMs: 10_000 }]);
    await flush();
    expect(refreshed!.changed).toBe(false);
    expect(refreshed!.register).toEqual({ ...first!.register, expiresAt: clock.now() + 10_000 });
    expect(sb.get("a")!.expiresAt).toBe(clock.now() + 10_000);
    expect(sb.revision).toBe(rev);
    expect(events).toHaveLength(1);
    expect(waiter.settled).toBe(false);
    expect(prefixWaiter.settled).toBe(false);
    expect(store.commits.at(-1)).toEqual([
      { type: "refresh", name: "a", expiresAt: clock.now() + 10_000, ttlMs: 10_000 },
    ]);
    // It outlives its first deadline and expires at the new one.
    await advance(clock, 8000, 1000);
    expect(sb.get("a")).toBeDefined();
    await advance(clock, 2000, 1000);
    expect(sb.get("a")).toBeUndefined();
    expect(waiter.value).toMatchObject({ reason: "change", event: { type: "expire", name: "a" } });
  });

  it("does not commit a refresh that leaves the deadline where it is", async () => {
    const { sb, store } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const commits = store.commits.length;
    await sb.set([{ name: "a", value: 1, ttlMs: 0 }]);
    await sb.set([{ name: "a", value: 1, ttlMs: null }]);
    expect(store.commits.length).toBe(commits);
  });

  it("removes the TTL with ttl 0 or null, and keeps the deadline when ttl is omitted", async () => {
    const { sb, clock } = await board();
    await sb.set([
      { name: "zero", value: 1, ttlMs: 5000 },
      { name: "null", value: 1, ttlMs: 5000 },
      { name: "kept", value: 1, ttlMs: 5000 },
    ]);
    const deadline = clock.now() + 5000;
    expect(sb.stats().deadlines).toBe(3);
    const rev = sb.revision;
    await sb.set([
      { name: "zero", value: 1, ttlMs: 0 },
      { name: "null", value: 1, ttlMs: null },
    ]);
    expect(sb.revision).toBe(rev);
    const [kept] = await sb.set([{ name: "kept", value: 2 }]);
    expect(kept!.changed).toBe(true);
    expect(kept!.register.expiresAt).toBe(deadline);
    expect(sb.get("zero")!.expiresAt).toBeNull();
    expect(sb.get("null")!.expiresAt).toBeNull();
    expect(sb.stats().deadlines).toBe(1);
    await advance(clock, 20_000, 1000);
    expect(sb.get("zero")).toBeDefined();
    expect(sb.get("null")).toBeDefined();
    expect(sb.get("kept")).toBeUndefined();
  });
});

describe("TTL expiry", () => {
  it("expires through the sweep timer: event, wake-up, and one ack per dropped request", async () => {
    const { sb, clock, events } = await board({ sweepIntervalMs: 1000 });
    await sb.set([
      { name: "a", value: 1, ttlMs: 2500 },
      { name: "b", value: 1 },
    ]);
    const reqs = await sb.request([
      { name: "a", value: 2 },
      { name: "a", value: 3 },
      { name: "b", value: 4 },
    ]);
    const rev = sb.revision;
    const waiter = track(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 60_000 }));
    const other = track(internals.wait(sb, "consumer", { names: ["b"] }, { timeoutMs: 60_000 }));
    await advance(clock, 2000, 1000);
    expect(sb.get("a")).toBeDefined();
    expect(waiter.settled).toBe(false);
    await advance(clock, 1000, 1000);
    expect(sb.get("a")).toBeUndefined();
    expect(events.slice(-3)).toEqual([
      { type: "ack", name: "a", revision: rev + 1, upTo: reqs[0]!.id, ids: [reqs[0]!.id], reason: "expired" },
      { type: "ack", name: "a", revision: rev + 2, upTo: reqs[1]!.id, ids: [reqs[1]!.id], reason: "expired" },
      { type: "expire", name: "a", revision: rev + 3 },
    ]);
    expect(sb.revision).toBe(rev + 3);
    expect(waiter.value).toMatchObject({ reason: "change", event: { type: "expire", name: "a" } });
    expect(other.settled).toBe(false);
    expect(sb.pendingRequests({ prefixes: [""] }).map((r) => r.id)).toEqual([reqs[2]!.id]);
    expect(sb.stats()).toMatchObject({ registers: 1, deadlines: 0, queuedRequests: 1 });
    expect(sb.stats().waiters.consumer).toBe(1);
  });

  it("does not expire a register refreshed while the sweep waited for it", async () => {
    const { sb, clock, store, events } = await board({ sweepIntervalMs: 1000 });
    await sb.set([{ name: "a", value: 1, ttlMs: 1500 }]);
    await advance(clock, 1000, 1000);
    store.hold();
    const refresh = track(sb.set([{ name: "a", value: 1, ttlMs: 5000 }]));
    await flush();
    // The sweep at +2000 finds the old deadline due and queues for a's guard behind the refresh.
    await advance(clock, 1000, 1000);
    expect(sb.get("a")!.expiresAt).toBeLessThan(clock.now());
    store.release();
    await refresh.promise;
    await flush();
    expect(sb.get("a")).toBeDefined();
    expect(events.filter((e) => e.type === "expire")).toEqual([]);
    await advance(clock, 4000, 1000);
    expect(sb.get("a")).toBeUndefined();
  });

  it("expires each register no earlier than its deadline and at most one sweep interval after", async () => {
    const interval = 250;
    const { sb, clock } = await board({ sweepIntervalMs: interval });
    const ttls = [1, 100, 249, 250, 251, 499, 777, 1000, 1234, 2001];
    const expiredAt = new Map<string, number>();
    sb.subscribe((e) => {
      if (e.type === "expire") expiredAt.set(e.name, clock.now());
    });
    await advance(clock, 130, 10); // start off the sweep grid
    await sb.set(ttls.map((ttlMs) => ({ name: `t${ttlMs}`, value: 1, ttlMs })));
    const deadlines = new Map(ttls.map((ttlMs) => [`t${ttlMs}`, sb.get(`t${ttlMs}`)!.expiresAt!]));
    await advance(clock, 3000, 10);
    expect(expiredAt.size).toBe(ttls.length);
    for (const [name, deadline] of deadlines) {
      const at = expiredAt.get(name)!;
      expect(at, name).toBeGreaterThanOrEqual(deadline);
      expect(at - deadline, name).toBeLessThanOrEqual(interval);
    }
  });

  it("expires only what is due, in deadline order", async () => {
    const { sb, clock, events } = await board({ sweepIntervalMs: 1000 });
    const start = clock.now();
    const ttls = [4200, 700, 2600, 1900, 3100, 100, 5000];
    await sb.set(ttls.map((ttlMs, i) => ({ name: `r${i}`, value: i, ttlMs })));
    await advance(clock, 3000, 1000);
    const elapsed = clock.now() - start;
    const expired = events.filter((e) => e.type === "expire").map((e) => e.name);
    const due = ttls
      .map((ttl, i) => [ttl, `r${i}`] as const)
      .filter(([ttl]) => ttl <= elapsed)
      .sort((x, y) => x[0] - y[0])
      .map(([, n]) => n);
    expect(expired).toEqual(due);
    expect(sb.stats().registers).toBe(ttls.length - due.length);
  });

  it("with the lease grace off, expires on open() what passed its deadline while down, with an event", async () => {
    const clock = new FakeClock();
    const store = new FakePersistence();
    const first = await openBoard({ store, clock });
    await first.sb.set([
      { name: "gone", value: 1, ttlMs: 5000 },
      { name: "later", value: 1, ttlMs: 30_000 },
    ]);
    await first.sb.request([{ name: "gone", value: 2 }]);
    const rev = first.sb.revision;
    await first.sb.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000); // down: no sweep runs

    const second = await board({ store, clock, ttlGraceMs: 0 });
    const { sb } = second;
    expect(sb.get("gone")).toBeUndefined();
    expect(sb.get("later")).toBeDefined();
    expect(sb.revision).toBe(rev + 2);
    expect(sb.eventsSince(rev)).toEqual([
      {
        type: "ack",
        name: "gone",
        revision: rev + 1,
        upTo: expect.any(Number),
        ids: [expect.any(Number)],
        reason: "expired",
      },
      { type: "expire", name: "gone", revision: rev + 2 },
    ]);
    expect(sb.stats().queuedRequests).toBe(0);
    expect(store.log.at(-1)).toEqual({ type: "expire", name: "gone", revision: rev + 2 });
    expect(clock.pendingTimers).toBe(1); // the sweep timer
    await advance(clock, 21_000, 1000);
    expect(sb.get("later")).toBeUndefined();
  });
});
