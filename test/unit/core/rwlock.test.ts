// RWLock and KeyedMutex: sharing, exclusion, writer preference, FIFO, aborts, idempotent release, keyed cleanup.

import { describe, expect, it } from "vitest";
import { KeyedMutex, type Release, RWLock } from "../../../src/core/rwlock.js";
import { flush, track } from "../../helpers/flush.js";

describe("RWLock", () => {
  it("lets readers share the lock", async () => {
    const lock = new RWLock();
    const a = await lock.read();
    const b = await lock.read();
    expect(lock.readers).toBe(2);
    expect(lock.writing).toBe(false);
    a();
    b();
    expect(lock.idle).toBe(true);
  });

  it("gives a writer the lock alone", async () => {
    const lock = new RWLock();
    const w = await lock.write();
    const r = track(lock.read());
    const w2 = track(lock.write());
    await flush();
    expect(r.settled).toBe(false);
    expect(w2.settled).toBe(false);
    expect(lock.waiting).toBe(2);
    w();
    await flush();
    // FIFO: the reader queued first gets it, the writer after it waits for the reader.
    expect(r.settled).toBe(true);
    expect(w2.settled).toBe(false);
    r.value!();
    await flush();
    expect(w2.settled).toBe(true);
    expect(lock.writing).toBe(true);
    w2.value!();
    expect(lock.idle).toBe(true);
  });

  it("waits for every reader before granting a writer", async () => {
    const lock = new RWLock();
    const r1 = await lock.read();
    const r2 = await lock.read();
    const w = track(lock.write());
    r1();
    await flush();
    expect(w.settled).toBe(false);
    r2();
    await flush();
    expect(w.settled).toBe(true);
    w.value!();
  });

  it("prefers a waiting writer over new readers", async () => {
    const lock = new RWLock();
    const r1 = await lock.read();
    const w = track(lock.write());
    const r2 = track(lock.read());
    await flush();
    expect(lock.readers).toBe(1);
    expect(r2.settled).toBe(false);
    r1();
    await flush();
    expect(w.settled).toBe(true);
    expect(r2.settled).toBe(false);
    w.value!();
    await flush();
    expect(r2.settled).toBe(true);
    r2.value!();
    expect(lock.idle).toBe(true);
  });

  it("grants in arrival order and batches consecutive readers", async () => {
    const lock = new RWLock();
    const order: string[] = [];
    const first = await lock.write();
    const plan = ["r1", "r2", "w1", "r3", "w2", "r4", "r5"];
    const grants = new Map<string, Release>();
    for (const id of plan) {
      const p = id.startsWith("w") ? lock.write() : lock.read();
      void p.then((release) => {
        order.push(id);
        grants.set(id, release);
      });
    }
    first();
    // Release whatever is granted, round after round, until everyone had a turn.
    const rounds: string[][] = [];
    for (let round = 0; round < 20 && (grants.size > 0 || order.length < plan.length); round++) {
      await flush();
      rounds.push([...grants.keys()]);
      for (const [id, release] of grants) {
        grants.delete(id);
        release();
      }
    }
    expect(order).toEqual(plan);
    expect(rounds.filter((r) => r.length > 0)).toEqual([["r1", "r2"], ["w1"], ["r3"], ["w2"], ["r4", "r5"]]);
    expect(lock.idle).toBe(true);
  });

  it("starves neither readers nor writers under a steady stream", async () => {
    const lock = new RWLock();
    const order: string[] = [];
    let held = await lock.read();
    const writer = lock.write().then((release) => {
      order.push("w");
      release();
    });
    // A stream of overlapping readers: without writer preference they would share the lock forever.
    for (let i = 0; i < 3; i++) {
      const next = lock.read().then((release) => {
        order.push(`r${i}`);
        return release;
      });
      held();
      held = await next;
    }
    held();
    await writer;
    expect(order).toEqual(["w", "r0", "r1", "r2"]);

    // And a stream of writers does not starve a reader queued between them.
    let w = await lock.write();
    const reader = track(lock.read());
    const laterWriters = [track(lock.write()), track(lock.write())];
    w();
    await flush();
    expect(reader.settled).toBe(true);
    expect(laterWriters.some((t) => t.settled)).toBe(false);
    reader.value!();
    for (const t of laterWriters) {
      await flush();
      expect(t.settled).toBe(true);
      w = t.value!;
      w();
    }
    expect(lock.idle).toBe(true);
  });

  it("removes and rejects a waiter whose signal aborts while queued", async () => {
    const lock = new RWLock();
    const r1 = await lock.read();
    const ac = new AbortController();
    const w = track(lock.write(ac.signal));
    const r2 = track(lock.read());
    await flush();
    expect(lock.waiting).toBe(2);
    expect(r2.settled).toBe(false);
    const reason = new Error("client went away");
    ac.abort(reason);
    await flush();
    expect(w.error).toBe(reason);
    expect(lock.waiting).toBe(0);
    // With the writer gone, the reader behind it shares the lock at once.
    expect(r2.settled).toBe(true);
    expect(lock.readers).toBe(2);
    r1();
    r2.value!();
    expect(lock.idle).toBe(true);
  });

  it("rejects at once with an already aborted signal and ignores aborts after the grant", async () => {
    const lock = new RWLock();
    const held = await lock.write();
    const ac = new AbortController();
    ac.abort(new Error("already"));
    await expect(lock.read(ac.signal)).rejects.toThrow("already");
    expect(lock.waiting).toBe(0);

    const late = new AbortController();
    const r = track(lock.read(late.signal));
    held();
    await flush();
    expect(r.settled).toBe(true);
    late.abort();
    await flush();
    expect(r.error).toBeUndefined();
    expect(lock.readers).toBe(1);
    r.value!();
    expect(lock.idle).toBe(true);
  });

  it("treats a second release as a no-op", async () => {
    const lock = new RWLock();
    const r1 = await lock.read();
    const r2 = await lock.read();
    r1();
    r1();
    expect(lock.readers).toBe(1);
    const w = track(lock.write());
    r2();
    await flush();
    expect(w.settled).toBe(true);
    r2();
    r1();
    expect(lock.writing).toBe(true);
    w.value!();
    w.value!();
    expect(lock.idle).toBe(true);
    expect(lock.readers).toBe(0);
  });

  it("tryWrite succeeds only when the lock is free", async () => {
    const lock = new RWLock();
    const r = await lock.read();
    expect(lock.tryWrite()).toBeNull();
    r();
    const w = lock.tryWrite();
    expect(w).not.toBeNull();
    expect(lock.writing).toBe(true);
    expect(lock.tryWrite()).toBeNull();
    w!();
    expect(lock.idle).toBe(true);
  });
});

describe("KeyedMutex", () => {
  it("excludes per key and lets other keys proceed", async () => {
    const m = new KeyedMutex();
    const a = await m.lockAll(["a"]);
    const a2 = track(m.lockAll(["a"]));
    const b = track(m.lockAll(["b"]));
    await flush();
    expect(a2.settled).toBe(false);
    expect(b.settled).toBe(true);
    a();
    await flush();
    expect(a2.settled).toBe(true);
    a2.value!();
    b.value!();
    expect(m.size).toBe(0);
  });

  it("locks keys in sorted order so opposite orders cannot deadlock", async () => {
    const m = new KeyedMutex();
    const holdA = await m.lockAll(["a"]);
    // c1 waits for "a". c2 names "b" first: unsorted it would take "b" now and then wait for "a",
    // while c1, once it has "a", waited for "b" — a deadlock.
    const c1 = track(m.lockAll(["a", "b"]));
    const c2 = track(m.lockAll(["b", "a"]));
    await flush();
    expect(c1.settled).toBe(false);
    expect(c2.settled).toBe(false);
    holdA();
    await flush();
    expect(c1.settled).toBe(true);
    expect(c2.settled).toBe(false);
    c1.value!();
    await flush();
    expect(c2.settled).toBe(true);
    c2.value!();
    expect(m.size).toBe(0);
  });

  it("takes a repeated key once and drops idle locks", async () => {
    const m = new KeyedMutex();
    const r = await m.lockAll(["x", "y", "x"]);
    expect(m.size).toBe(2);
    const waiting = track(m.lockAll(["y", "z"]));
    await flush();
    expect(waiting.settled).toBe(false);
    // y is still wanted by the waiter, so its lock stays; x goes.
    r();
    await flush();
    expect(waiting.settled).toBe(true);
    expect(m.size).toBe(2);
    waiting.value!();
    expect(m.size).toBe(0);
    r();
    expect(m.size).toBe(0);
  });

  it("keeps no lock for an empty key set", async () => {
    const m = new KeyedMutex();
    const r = await m.lockAll([]);
    expect(m.size).toBe(0);
    r();
    expect(m.size).toBe(0);
  });
});
