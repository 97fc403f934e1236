// The epoch (one history id per data set) in polls and watches, and the lease grace granted on start.

import { afterEach, describe, expect, it } from "vitest";
import { consumerPoll, providerPoll } from "../../../src/core/polls.js";
import { Switchboard } from "../../../src/core/switchboard.js";
import { FakeClock } from "../../helpers/fake-clock.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
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

const OTHER = "another-history";

describe("epoch", () => {
  it("is the store's, and compaction snapshots carry it", async () => {
    const store = new FakePersistence();
    store.epoch = "history-one-0001";
    const { sb } = await board({ store });
    expect(sb.epoch).toBe("history-one-0001");
    await sb.set([{ name: "a", value: 1 }]);
    await sb.compact();
    expect(store.compactions[0]!.epoch).toBe("history-one-0001");
  });

  it("refuses a store that loads no epoch", async () => {
    const store = new FakePersistence();
    store.epoch = "";
    await expect(Switchboard.open({ persistence: store, clock: new FakeClock() })).rejects.toMatchObject({
      code: "STORAGE_CORRUPT",
    });
  });

  it("a consumer index from another epoch answers the full state at once, flagged resync", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const index = sb.revision;
    const timers = clock.pendingTimers;
    const foreign = await consumerPoll(sb, { names: ["a", "b"] }, index, { waitMs: 30_000, epoch: OTHER });
    expect(foreign).toEqual({
      epoch: sb.epoch,
      index,
      resync: true,
      registers: [
        { name: "a", found: true, register: sb.get("a") },
        { name: "b", found: false },
      ],
    });
    expect(clock.pendingTimers).toBe(timers); // answered without holding
    // The same index with this epoch (or none) holds as usual.
    const held = consumerPoll(sb, { names: ["a"] }, index, { waitMs: 30_000, epoch: sb.epoch });
    expect(clock.pendingTimers).toBe(timers + 1);
    await sb.set([{ name: "a", value: 2 }]);
    expect((await held).resync).toBe(false);
  });

  it("a provider `after` from another epoch acknowledges nothing and answers every pending request", async () => {
    const { sb, store } = await board();
    await sb.set([{ name: "dev", value: 0 }]);
    const reqs = await sb.request([
      { name: "dev", value: 1 },
      { name: "dev", value: 2 },
    ]);
    const commits = store.commits.length;
    const res = await providerPoll(sb, { names: ["dev"] }, reqs[1]!.id, { waitMs: 0, epoch: OTHER });
    expect(res.resync).toBe(true);
    expect(res.requests).toEqual(reqs);
    // No ack written (the poll's delivery mark is the only thing committed).
    expect(
      store.commits
        .slice(commits)
        .flat()
        .map((m) => m.type),
    ).toEqual(["deliver"]);
    expect(sb.pendingRequests({ names: ["dev"] })).toEqual(reqs);
    // With its own epoch the same after acknowledges both.
    const own = await providerPoll(sb, { names: ["dev"] }, reqs[1]!.id, { waitMs: 0, epoch: sb.epoch });
    expect(own).toMatchObject({ resync: false, requests: [] });
    expect(sb.pendingRequests({ names: ["dev"] })).toEqual([]);
  });

  it("an `after` above every id this server handed out acknowledges nothing, even without an epoch", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "dev", value: 0 }]);
    const reqs = await sb.request([{ name: "dev", value: 1 }]);
    // The client saw ids up to 700 on a server that has since lost its data.
    const res = await providerPoll(sb, { names: ["dev"] }, 700, { waitMs: 0 });
    expect(res).toMatchObject({ resync: true, requests: reqs });
    expect(sb.pendingRequests({ names: ["dev"] })).toEqual(reqs);
    // Nothing pending: a resync still answers at once, so the provider learns of the new history.
    const timers = clock.pendingTimers;
    const empty = await providerPoll(sb, { names: ["other"] }, 700, { waitMs: 30_000, epoch: OTHER });
    expect(empty).toMatchObject({ resync: true, requests: [], missing: ["other"] });
    expect(clock.pendingTimers).toBe(timers);
  });

  it("a provider poll names the polled registers that do not exist", async () => {
    const { sb } = await board();
    await sb.set([{ name: "here", value: 0 }]);
    const res = await providerPoll(sb, { names: ["here", "gone"] }, undefined, { waitMs: 0 });
    expect(res.missing).toEqual(["gone"]);
  });

  it("a watch from another epoch starts with a resync", async () => {
    const { sb } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    await sb.set([{ name: "a", value: 2 }]);
    const ac = new AbortController();
    const foreign = sb.watch({ after: 1, epoch: OTHER, signal: ac.signal });
    expect((await foreign.next()).value).toEqual({ type: "resync", index: sb.revision });
    const own = sb.watch({ after: 1, epoch: sb.epoch, signal: ac.signal });
    expect((await own.next()).value).toMatchObject({ type: "event", event: { revision: 2 } });
    ac.abort();
  });
});

describe("lease grace on start", () => {
  async function downFor(downMs: number, ttlGraceMs?: number) {
    const clock = new FakeClock();
    const store = new FakePersistence();
    const first = await board({ store, clock });
    await first.sb.set([
      { name: "dev", value: 1, ttlMs: 10_000 },
      { name: "long", value: 1, ttlMs: 3_600_000 },
      { name: "forever", value: 1 },
    ]);
    await first.sb.request([{ name: "dev", value: 2 }]);
    const before = { dev: first.sb.get("dev")!, long: first.sb.get("long")! };
    await first.sb.close();
    open.splice(open.indexOf(first.sb), 1);
    clock.advance(downMs); // down: no sweep runs
    const second = await board({ store, clock, ...(ttlGraceMs === undefined ? {} : { ttlGraceMs }) });
    return { ...second, before };
  }

  it("gives a register whose deadline passed while down its own TTL again, without a revision", async () => {
    const { sb, clock, store, before, events } = await downFor(15_000);
    const start = clock.now();
    expect(sb.get("dev")).toMatchObject({ expiresAt: start + 10_000, ttlMs: 10_000, version: 1 });
    expect(sb.get("dev")!.modRevision).toBe(before.dev.modRevision);
    expect(sb.stats().queuedRequests).toBe(1); // its change request is still queued
    expect(sb.get("long")!.expiresAt).toBe(start + 3_600_000); // every deadline gets at least its TTL
    expect(sb.get("forever")!.expiresAt).toBeNull();
    expect(events).toEqual([]);
    // The grace is durable: a crash right after start does not lose it.
    expect(store.log.slice(-2)).toEqual([
      { type: "refresh", name: "dev", expiresAt: start + 10_000 },
      { type: "refresh", name: "long", expiresAt: start + 3_600_000 },
    ]);
    // A device that comes back within the grace keeps its register.
    await advance(clock, 9_000);
    await sb.set([{ name: "dev", value: 1, ttlMs: 10_000 }]);
    await advance(clock, 5_000);
    expect(sb.get("dev")).toBeDefined();
  });

  it("still expires, one grace period after start, a register nobody refreshes", async () => {
    const { sb, clock, events } = await downFor(60_000);
    await advance(clock, 9_900);
    expect(sb.get("dev")).toBeDefined();
    await advance(clock, 1_200);
    expect(sb.get("dev")).toBeUndefined();
    expect(events.map((e) => [e.type, e.name])).toEqual([
      ["ack", "dev"],
      ["expire", "dev"],
    ]);
  });

  it("is capped by ttlGraceMs, and extends only deadlines that fall inside the grace", async () => {
    const { sb, clock, before } = await downFor(9_000, 2_000);
    // dev's deadline is 1 s away: moved to 2 s; long's is an hour away and stays.
    expect(sb.get("dev")!.expiresAt).toBe(clock.now() + 2_000);
    expect(sb.get("long")!.expiresAt).toBe(before.long.expiresAt);
    await advance(clock, 2_100);
    expect(sb.get("dev")).toBeUndefined();
  });

  it("ttlGraceMs 0 turns it off: what expired while down expires at start", async () => {
    const { sb } = await downFor(15_000, 0);
    expect(sb.get("dev")).toBeUndefined();
    expect(sb.stats().queuedRequests).toBe(0);
  });
});
