// Unit tests of the coalescing buffer and of how a subscription turns answers into items.

import { describe, expect, it } from "vitest";
import { ItemQueue } from "#src/queue.js";
import { NameSubscriptionImpl, PrefixSubscriptionImpl, type SubscriptionHost } from "#src/subscription.js";
import type { ConsumeItem } from "#src/types.js";
import { wire } from "./helpers.js";

async function drain<T>(q: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await q.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const host: SubscriptionHost = {
  unsubscribe() {},
  connected: true,
  request: () => Promise.reject(new Error("not in this test")),
};

function summary(items: ConsumeItem[]): string[] {
  return items.map((i) => (i.found ? `${i.name}=${JSON.stringify(i.value)}` : `${i.name}:gone`));
}

describe("ItemQueue", () => {
  it("replaces an unread replaceable item of the same key and moves it to the end", async () => {
    const q = new ItemQueue<string>();
    q.push("a1", "a", true);
    q.push("b1", "b", true);
    q.push("a2", "a", true);
    q.end();
    expect(await drain(q, 10)).toEqual(["b1", "a2"]);
  });

  it("never drops a non-replaceable item, but drops the replaceable value before it", async () => {
    const q = new ItemQueue<string>();
    q.push("a1", "a", true);
    q.push("a-gone", "a", false);
    q.push("a2", "a", true);
    q.push("a3", "a", true);
    q.push("a-gone-again", "a", false);
    q.push("a4", "a", true);
    q.end();
    expect(await drain(q, 10)).toEqual(["a-gone", "a-gone-again", "a4"]);
  });

  it("hands an item straight to a waiting reader and throws a failure after the buffered items", async () => {
    const q = new ItemQueue<string>();
    const pending = q.next();
    q.push("x", "x", true);
    expect(await pending).toEqual({ value: "x", done: false });
    q.push("y");
    q.fail(new Error("boom"));
    expect(await q.next()).toEqual({ value: "y", done: false });
    await expect(q.next()).rejects.toThrow("boom");
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it("close() drops buffered items and ends a waiting reader", async () => {
    const q = new ItemQueue<string>();
    const pending = q.next();
    q.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    q.push("late");
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});

describe("subscription delivery", () => {
  it("reports a delete hidden in one answer (new createRevision) as found:false before the new value", async () => {
    const sub = new NameSubscriptionImpl("a", host, undefined);
    sub.deliver([wire("a", 1, { create: 5, mod: 5, version: 1 })], 5, false);
    expect(summary(await drain(sub, 1))).toEqual(["a=1"]);
    sub.deliver([wire("a", 1, { create: 5, mod: 5, version: 1 })], 7, false); // unchanged: nothing
    sub.deliver([wire("a", 2, { create: 9, mod: 9, version: 1 })], 9, false); // deleted and re-created
    expect(summary(await drain(sub, 2))).toEqual(["a:gone", "a=2"]);
    expect(sub.current).toMatchObject({ found: true, value: 2, createRevision: 9 });
  });

  it("starts a name subscription with found:false when the register does not exist", async () => {
    const sub = new NameSubscriptionImpl("nope", host, undefined);
    sub.deliver([{ name: "nope", found: false }], 3, false);
    sub.deliver([{ name: "nope", found: false }], 4, false);
    sub.deliver([wire("nope", "now", { create: 6, mod: 6, version: 1 })], 6, false);
    expect(summary(await drain(sub, 2))).toEqual(["nope:gone", 'nope="now"']);
    await sub.ready;
  });

  it("coalesces unread values per register but keeps every deletion", async () => {
    const sub = new PrefixSubscriptionImpl("p/", host, undefined);
    sub.deliver(
      [wire("p/a", 1, { create: 1, mod: 1, version: 1 }), wire("p/b", 1, { create: 2, mod: 2, version: 1 })],
      2,
      false,
    );
    sub.deliver([wire("p/a", 2, { create: 1, mod: 3, version: 2 })], 3, false);
    sub.deliver([wire("p/a", 3, { create: 1, mod: 4, version: 3 })], 4, false);
    sub.deliver([{ name: "p/b", found: false }], 5, false);
    sub.deliver([wire("p/b", 9, { create: 6, mod: 6, version: 1 })], 6, false);
    expect(summary(await drain(sub, 3))).toEqual(["p/a=3", "p/b:gone", "p/b=9"]);
    expect(sub.closed).toBe(false);
    expect([...sub.current.keys()].sort()).toEqual(["p/a", "p/b"]);
  });

  it("on a resync reports prefix registers that vanished, and nothing for unchanged ones", async () => {
    const sub = new PrefixSubscriptionImpl("q/", host, undefined);
    sub.deliver(
      [wire("q/a", 1, { create: 1, mod: 1, version: 1 }), wire("q/b", 1, { create: 2, mod: 2, version: 1 })],
      2,
      false,
    );
    await drain(sub, 2);
    sub.deliver([wire("q/a", 1, { create: 1, mod: 1, version: 1 })], 50, true);
    const [item] = await drain(sub, 1);
    expect(item).toMatchObject({ name: "q/b", found: false, index: 50 });
    expect([...sub.current.keys()]).toEqual(["q/a"]);
  });

  it("ignores found:false for prefix registers it never saw", async () => {
    const sub = new PrefixSubscriptionImpl("r/", host, undefined);
    sub.deliver([{ name: "r/x", found: false }], 3, false);
    sub.deliver([wire("r/y", 1, { create: 4, mod: 4, version: 1 })], 4, false);
    expect(summary(await drain(sub, 1))).toEqual(["r/y=1"]);
  });
});
