// Mutex and KeyedMutex: exclusion, FIFO hand-over, aborts, idempotent release, keyed cleanup.

import { describe, expect, it } from "vitest";
import { KeyedMutex, Mutex } from "../../../src/core/rwlock.js";
import { flush, track } from "../../helpers/flush.js";

describe("Mutex", () => {
  it("holds one at a time and grants waiters in arrival order", async () => {
    const lock = new Mutex();
    const first = await lock.lock();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      track(
        lock.lock().then((release) => {
          order.push(n);
          return release;
        }),
      ),
    );
    await flush();
    expect(lock.locked).toBe(true);
    expect(lock.waiting).toBe(3);
    expect(waiters.some((w) => w.settled)).toBe(false);
    first();
    for (const w of waiters) {
      await flush();
      expect(w.settled).toBe(true);
      // The next one waits until this one releases.
      expect(waiters.filter((x) => x.settled)).toHaveLength(order.length);
      w.value!();
    }
    expect(order).toEqual([1, 2, 3]);
    expect(lock.idle).toBe(true);
  });

  it("hands the lock over on release, so tryLock cannot jump the queue", async () => {
    const lock = new Mutex();
    const held = await lock.lock();
    const waiter = track(lock.lock());
    held();
    // Before the waiter's continuation runs, the lock is already its own.
    expect(lock.tryLock()).toBeNull();
    await flush();
    expect(waiter.settled).toBe(true);
    waiter.value!();
    expect(lock.idle).toBe(true);
  });

  it("removes and rejects a waiter whose signal aborts while queued", async () => {
    const lock = new Mutex();
    const held = await lock.lock();
    const ac = new AbortController();
    const aborted = track(lock.lock(ac.signal));
    const next = track(lock.lock());
    await flush();
    expect(lock.waiting).toBe(2);
    const reason = new Error("client went away");
    ac.abort(reason);
    await flush();
    expect(aborted.error).toBe(reason);
    expect(lock.waiting).toBe(1);
    held();
    await flush();
    expect(next.settled).toBe(true);
    next.value!();
    expect(lock.idle).toBe(true);
  });

  it("rejects at once with an already aborted signal and ignores aborts after the grant", async () => {
    const lock = new Mutex();
    const held = await lock.lock();
    const ac = new AbortController();
    ac.abort(new Error("already"));
    await expect(lock.lock(ac.signal)).rejects.toThrow("already");
    expect(lock.waiting).toBe(0);

    const late = new AbortController();
    const w = track(lock.lock(late.signal));
    held();
    await flush();
    expect(w.settled).toBe(true);
    late.abort();
    await flush();
    expect(w.error).toBeUndefined();
    expect(lock.locked).toBe(true);
    w.value!();
    expect(lock.idle).toBe(true);
  });

  it("treats a second release as a no-op", async () => {
    const lock = new Mutex();
    const a = await lock.lock();
    const b = track(lock.lock());
    a();
    await flush();
    expect(b.settled).toBe(true);
    // A second release of a must not free the lock b now holds.
    a();
    expect(lock.locked).toBe(true);
    expect(lock.tryLock()).toBeNull();
    b.value!();
    b.value!();
    expect(lock.idle).toBe(true);
  });

  it("tryLock succeeds only when the lock is free and nobody waits", async () => {
    const lock = new Mutex();
    const held = lock.tryLock();
    expect(held).not.toBeNull();
    expect(lock.tryLock()).toBeNull();
    held!();
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
