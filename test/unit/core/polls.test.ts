// Consumer and provider long-polls: when they answer, what they answer, and that every waiter and timer is released.

import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { checkSelector, consumerPoll, jitteredWait, providerPoll } from "../../../src/core/polls.js";
import type { Switchboard } from "../../../src/core/switchboard.js";
import { flush, seededRandom, track } from "../../helpers/flush.js";
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

const noJitter = { random: () => 0 };
const WAIT = 30_000;
const SWEEP_TIMER = 1;

describe("consumerPoll", () => {
  it("answers at once without an index", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const res = await consumerPoll(sb, { names: ["a", "missing"] }, undefined, { waitMs: WAIT });
    expect(res).toEqual({
      epoch: sb.epoch,
      index: sb.revision,
      resync: false,
      registers: [
        { name: "a", found: true, register: sb.get("a") },
        { name: "missing", found: false },
      ],
    });
    expect(sb.stats().waiters.consumer).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });

  it("answers index 0 at once, as a plain read (Consul's blocking-query rule)", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "other", value: 1 }]);
    const res = await consumerPoll(sb, { names: ["never"] }, 0, { waitMs: WAIT, ...noJitter });
    expect(res).toEqual({
      epoch: sb.epoch,
      index: sb.revision,
      resync: false,
      registers: [{ name: "never", found: false }],
    });
    expect(sb.stats().waiters.consumer).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });

  it("holds index 0 on a server that has had no change yet, so looping clients do not spin", async () => {
    const { sb } = await board();
    expect(sb.revision).toBe(0);
    const poll = track(consumerPoll(sb, { names: ["first"] }, 0, { waitMs: WAIT, ...noJitter }));
    await flush();
    expect(poll.settled).toBe(false);
    expect(sb.stats().waiters.consumer).toBe(1);
    await sb.set([{ name: "first", value: 1 }]);
    const res = await poll.promise;
    expect(res.index).toBe(1);
    expect(res.registers).toEqual([{ name: "first", found: true, register: sb.get("first") }]);
  });

  it("holds on the current index and wakes with the new state on a change", async () => {
    const { sb, clock } = await board();
    await sb.set([
      { name: "a", value: 1 },
      { name: "other", value: 1 },
    ]);
    const index = sb.revision;
    const poll = track(consumerPoll(sb, { names: ["a"] }, index, { waitMs: WAIT, ...noJitter }));
    await flush();
    expect(poll.settled).toBe(false);
    expect(sb.stats().waiters.consumer).toBe(1);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER + 1);
    // Neither an unrelated register nor a change request wakes it.
    await sb.set([{ name: "other", value: 2 }]);
    await sb.request([{ name: "a", value: 9 }]);
    await flush();
    expect(poll.settled).toBe(false);
    await advance(clock, 1000, 1000);
    const [changed] = await sb.set([{ name: "a", value: 2 }]);
    await flush();
    expect(poll.value).toEqual({
      epoch: sb.epoch,
      index: sb.revision,
      resync: false,
      registers: [{ name: "a", found: true, register: changed!.register }],
      changedAt: clock.now(),
    });
    expect(sb.stats().waiters.consumer).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });

  it("answers at once when something watched changed after the index", async () => {
    const { sb } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const index = sb.revision;
    await sb.set([{ name: "a", value: 2 }]);
    const res = await consumerPoll(sb, { prefixes: ["a"] }, index, { waitMs: WAIT });
    expect(res.index).toBe(index + 1);
    expect(res.registers).toEqual([{ name: "a", found: true, register: sb.get("a") }]);
  });

  it("answers the unchanged state with the same index on timeout", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const index = sb.revision;
    const poll = track(consumerPoll(sb, { names: ["a"] }, index, { waitMs: 5000, ...noJitter }));
    await advance(clock, 4999, 1000);
    expect(poll.settled).toBe(false);
    await advance(clock, 1);
    expect(poll.value).toEqual({
      epoch: sb.epoch,
      index,
      resync: false,
      registers: [{ name: "a", found: true, register: sb.get("a") }],
    });
    expect(sb.stats().waiters.consumer).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });

  it("reports a deleted register as found: false, for names and prefixes", async () => {
    const { sb } = await board();
    await sb.set([
      { name: "svc/a", value: 1 },
      { name: "svc/b", value: 1 },
    ]);
    const index = sb.revision;
    const byPrefix = track(consumerPoll(sb, { prefixes: ["svc/"] }, index, { waitMs: WAIT }));
    const byName = track(consumerPoll(sb, { names: ["svc/a"] }, index, { waitMs: WAIT }));
    await flush();
    await sb.delete(["svc/a"]);
    await flush();
    expect(byPrefix.value!.registers).toEqual([
      { name: "svc/b", found: true, register: sb.get("svc/b") },
      { name: "svc/a", found: false },
    ]);
    expect(byName.value!.registers).toEqual([{ name: "svc/a", found: false }]);
    // A poll arriving later with the old index is told the same, at once.
    const late = await consumerPoll(sb, { prefixes: ["svc/"] }, index, { waitMs: WAIT });
    expect(late.registers).toContainEqual({ name: "svc/a", found: false });
    // A register deleted and created again is simply found.
    await sb.set([{ name: "svc/a", value: 2 }]);
    const again = await consumerPoll(sb, { prefixes: ["svc/"] }, index, { waitMs: WAIT });
    expect(again.registers.map((v) => [v.name, v.found])).toEqual([
      ["svc/a", true],
      ["svc/b", true],
    ]);
  });

  it("reports an expired register as found: false to a prefix watcher", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "svc/t", value: 1, ttlMs: 1500 }]);
    const poll = track(consumerPoll(sb, { prefixes: ["svc/"] }, sb.revision, { waitMs: WAIT }));
    await advance(clock, 2000, 1000);
    expect(poll.value!.registers).toEqual([{ name: "svc/t", found: false }]);
    expect(poll.value!.changedAt).toBe(clock.now());
  });

  it("resyncs at once when the index is older than the event ring", async () => {
    const small = await board({ eventRingSize: 3 });
    const large = await board({ eventRingSize: 100 });
    for (const { sb } of [small, large]) await sb.set([{ name: "a", value: 1 }]);
    const index = small.sb.revision;
    for (const { sb } of [small, large]) {
      for (let i = 0; i < 5; i++) await sb.set([{ name: `noise${i}`, value: i }]);
    }
    const res = await consumerPoll(small.sb, { names: ["a"] }, index, { waitMs: WAIT });
    expect(res).toEqual({
      epoch: small.sb.epoch,
      index: small.sb.revision,
      resync: true,
      registers: [{ name: "a", found: true, register: small.sb.get("a") }],
    });
    // With a ring that still covers the index, the same poll holds.
    const held = track(consumerPoll(large.sb, { names: ["a"] }, index, { waitMs: WAIT }));
    await flush();
    expect(held.settled).toBe(false);
  });

  it("resyncs at once when the index is newer than the revision", async () => {
    const { sb } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const res = await consumerPoll(sb, { names: ["a"] }, sb.revision + 10, { waitMs: WAIT });
    expect(res.resync).toBe(true);
    expect(res.index).toBe(sb.revision);
    expect(res.registers).toHaveLength(1);
  });

  it("releases the waiter and its timer on abort", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const ac = new AbortController();
    const poll = track(consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: WAIT, signal: ac.signal }));
    await flush();
    expect(sb.stats().waiters.consumer).toBe(1);
    ac.abort();
    await flush();
    expect(poll.value).toMatchObject({ index: sb.revision, resync: false });
    expect(poll.value!.changedAt).toBeUndefined();
    expect(sb.stats().waiters.consumer).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
    // An already aborted signal never registers a waiter.
    const res = await consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: WAIT, signal: ac.signal });
    expect(res.index).toBe(sb.revision);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });

  it("removes its abort listener when a change or a timeout answers it", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const ac = new AbortController();
    const options = { waitMs: 5000, signal: ac.signal, ...noJitter };
    const changed = track(consumerPoll(sb, { names: ["a"] }, sb.revision, options));
    const timedOut = track(consumerPoll(sb, { names: ["b"] }, sb.revision, options));
    await flush();
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(2);
    await sb.set([{ name: "a", value: 2 }]);
    await flush();
    expect(changed.settled).toBe(true);
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(1);
    await advance(clock, 5000, 1000);
    expect(timedOut.settled).toBe(true);
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
  });

  it("answers held polls on close and leaves no waiter or timer", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const consumer = track(consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: WAIT }));
    const provider = track(providerPoll(sb, { names: ["a"] }, undefined, { waitMs: WAIT }));
    await flush();
    expect(sb.stats().waiters).toEqual({ consumer: 1, provider: 1, stream: 0 });
    await sb.close();
    await flush();
    expect(consumer.value).toMatchObject({ index: sb.revision, resync: false });
    expect(provider.value).toMatchObject({ index: sb.revision, requests: [] });
    expect(sb.stats().waiters).toEqual({ consumer: 0, provider: 0, stream: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it("answers TOO_MANY_WAITERS at the limit, counting consumers and providers", async () => {
    const { sb } = await board({ limits: { maxWaiters: 2 } });
    await sb.set([{ name: "a", value: 1 }]);
    const ac = new AbortController();
    track(consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: WAIT, signal: ac.signal }));
    track(providerPoll(sb, { names: ["a"] }, undefined, { waitMs: WAIT }));
    await flush();
    const err = await consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: WAIT }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TOO_MANY_WAITERS", kind: "exhausted" });
    expect((err as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
    // A poll that needs no wait still answers.
    await expect(consumerPoll(sb, { names: ["a"] }, undefined, { waitMs: WAIT })).resolves.toBeDefined();
    ac.abort();
    await flush();
    const again = track(consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: WAIT }));
    await flush();
    expect(again.settled).toBe(false);
    expect(sb.stats().waiters).toEqual({ consumer: 1, provider: 1, stream: 0 });
  });
});

describe("selection and wait checks", () => {
  it("rejects an empty selection, too many names, bad names and prefixes", async () => {
    const { sb } = await board({ limits: { maxNames: 2 } });
    const poll = (sel: Parameters<typeof consumerPoll>[1]) => consumerPoll(sb, sel, undefined, { waitMs: 0 });
    await expect(poll({})).rejects.toMatchObject({ code: "NO_SELECTOR" });
    await expect(poll({ names: [], prefixes: [] })).rejects.toMatchObject({ code: "NO_SELECTOR" });
    await expect(poll({ names: ["a", "b"], prefixes: ["c"] })).rejects.toMatchObject({ code: "TOO_MANY_NAMES" });
    await expect(poll({ names: ["a b"] })).rejects.toMatchObject({ code: "INVALID_NAME" });
    await expect(poll({ prefixes: ["*"] })).rejects.toMatchObject({ code: "INVALID_PREFIX" });
    await expect(providerPoll(sb, {}, undefined, { waitMs: 0 })).rejects.toMatchObject({ code: "NO_SELECTOR" });
    // Repeats count once.
    expect(checkSelector(sb, { names: ["a", "a", "a"], prefixes: ["p", "p"] })).toEqual({
      names: ["a"],
      prefixes: ["p"],
    });
  });

  it("rejects a wait longer than the limit, with or without an index", async () => {
    const { sb } = await board({ limits: { maxWaitMs: 10_000 } });
    await sb.set([{ name: "a", value: 1 }]);
    const sel = { names: ["a"] };
    await expect(consumerPoll(sb, sel, undefined, { waitMs: 10_001 })).rejects.toMatchObject({
      code: "WAIT_TOO_LONG",
    });
    await expect(consumerPoll(sb, sel, sb.revision, { waitMs: 10_001 })).rejects.toMatchObject({
      code: "WAIT_TOO_LONG",
    });
    await expect(providerPoll(sb, sel, undefined, { waitMs: 10_001 })).rejects.toMatchObject({
      code: "WAIT_TOO_LONG",
    });
    expect(jitteredWait(sb, 10_000, () => 0)).toBe(10_000);
  });

  it("jitters a wait within wait .. wait + wait/16", async () => {
    const { sb } = await board();
    const random = seededRandom(16);
    for (const wait of [1, 15, 16, 1000, 30_000, 300_000]) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = 0;
      for (let i = 0; i < 200; i++) {
        const w = jitteredWait(sb, wait, random);
        expect(w).toBeGreaterThanOrEqual(wait);
        expect(w).toBeLessThanOrEqual(wait + wait / 16);
        lo = Math.min(lo, w);
        hi = Math.max(hi, w);
      }
      if (wait >= 1000) expect(hi - lo).toBeGreaterThan(wait / 32); // it does spread out
    }
    expect(jitteredWait(sb, 0, () => 0.9)).toBe(0);
    expect(jitteredWait(sb, 16_000, () => 0.5)).toBe(16_500);
  });

  it("holds a poll for the jittered wait", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const poll = track(consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: 16_000, random: () => 0.5 }));
    await advance(clock, 16_499, 1000);
    expect(poll.settled).toBe(false);
    await advance(clock, 1);
    expect(poll.settled).toBe(true);
  });

  it("answers at once with waitMs 0", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const res = await consumerPoll(sb, { names: ["a"] }, sb.revision, { waitMs: 0 });
    expect(res.index).toBe(sb.revision);
    const prov = await providerPoll(sb, { names: ["a"] }, undefined, { waitMs: 0 });
    expect(prov.requests).toEqual([]);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });
});

describe("providerPoll", () => {
  it("answers pending requests at once and acknowledges nothing without after", async () => {
    const { sb } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const reqs = await sb.request([
      { name: "a", value: 2 },
      { name: "a", value: 3 },
    ]);
    const res = await providerPoll(sb, { names: ["a"] }, undefined, { waitMs: WAIT });
    expect(res).toEqual({ epoch: sb.epoch, index: sb.revision, resync: false, requests: reqs, missing: [] });
    expect(sb.stats().queuedRequests).toBe(2);
  });

  it("holds until a request arrives, and is not woken by register changes", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "dev/a", value: 1 }]);
    const poll = track(providerPoll(sb, { prefixes: ["dev/"] }, undefined, { waitMs: WAIT }));
    await flush();
    expect(sb.stats().waiters.provider).toBe(1);
    await sb.set([{ name: "dev/a", value: 2 }]);
    await flush();
    expect(poll.settled).toBe(false);
    const [req] = await sb.request([{ name: "dev/a", value: 3 }]);
    await flush();
    expect(poll.value).toEqual({
      epoch: sb.epoch,
      index: sb.revision,
      resync: false,
      requests: [req],
      missing: [],
      changedAt: clock.now(),
    });
    expect(sb.stats().waiters.provider).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });

  it("drops ids <= after, returns the rest, and returns them again to the same after", async () => {
    const { sb } = await board();
    await sb.set([
      { name: "a", value: 1 },
      { name: "b", value: 1 },
    ]);
    const reqs = await sb.request([
      { name: "a", value: 1 },
      { name: "b", value: 1 },
      { name: "a", value: 2 },
      { name: "b", value: 2 },
    ]);
    const ids = reqs.map((r) => r.id);
    const after = ids[1]!;
    const rev = sb.revision;
    const first = await providerPoll(sb, { names: ["a", "b"] }, after, { waitMs: WAIT });
    expect(first.requests.map((r) => r.id)).toEqual(ids.filter((id) => id > after));
    expect(sb.stats().queuedRequests).toBe(2);
    const acks = sb.eventsSince(rev)!;
    expect(acks).toHaveLength(2);
    for (const e of acks) expect(e).toMatchObject({ type: "ack", upTo: after, reason: "acknowledged" });
    // The provider crashed before handling the rest: polling with the same after gets them again.
    const again = await providerPoll(sb, { names: ["a", "b"] }, after, { waitMs: WAIT });
    expect(again.requests).toEqual(first.requests);
    expect(sb.revision).toBe(rev + 2);
    // Acknowledging one register only leaves the other's requests alone.
    const onlyA = await providerPoll(sb, { names: ["a"] }, ids.at(-1)!, { waitMs: 0 });
    expect(onlyA.requests).toEqual([]);
    expect(sb.pendingRequests({ names: ["b"] }).map((r) => r.id)).toEqual([ids[3]]);
  });

  it("holds once everything up to after is acknowledged, then times out empty", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const [req] = await sb.request([{ name: "a", value: 2 }]);
    const poll = track(providerPoll(sb, { names: ["a"] }, req!.id, { waitMs: 5000, ...noJitter }));
    await flush();
    expect(poll.settled).toBe(false);
    expect(sb.stats().queuedRequests).toBe(0);
    await advance(clock, 5000, 1000);
    expect(poll.value).toEqual({ epoch: sb.epoch, index: sb.revision, resync: false, requests: [], missing: [] });
    expect(sb.stats().waiters.provider).toBe(0);
    expect(clock.pendingTimers).toBe(SWEEP_TIMER);
  });
});
