// GroupCommitter: one commit for writes that pile up, apply in submission order, all-or-nothing on failure.

import { describe, expect, it } from "vitest";
import { GroupCommitter } from "../../../src/core/committer.js";
import { SwitchboardError } from "../../../src/core/errors.js";
import type { Mutation } from "../../../src/core/types.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
import { flush, track } from "../../helpers/flush.js";

const del = (name: string, revision: number): Mutation => ({ type: "delete", name, revision });

describe("GroupCommitter", () => {
  it("commits what piles up during a commit in one call and applies in submission order", async () => {
    const store = new FakePersistence();
    const c = new GroupCommitter(store);
    const applied: string[] = [];
    store.hold();
    const first = track(c.submit([del("a", 1)], () => applied.push("a")));
    await flush();
    const rest = ["b", "c", "d"].map((n, i) => track(c.submit([del(n, i + 2)], () => applied.push(n))));
    await flush();
    expect(store.commits).toHaveLength(1);
    expect(applied).toEqual([]);
    expect(first.settled).toBe(false);
    store.release();
    await c.onIdle();
    await flush();
    expect(store.commits.map((m) => m.map((x) => x.name))).toEqual([["a"], ["b", "c", "d"]]);
    expect(c.commits).toBe(2);
    expect(applied).toEqual(["a", "b", "c", "d"]);
    expect([first, ...rest].every((t) => t.settled && t.error === undefined)).toBe(true);
  });

  it("answers writers ahead of the continuations their apply wakes, and after the apply", async () => {
    const store = new FakePersistence();
    const c = new GroupCommitter(store);
    const order: string[] = [];
    let state = "old";
    let wakeConsumer: () => void = () => undefined;
    const consumer = new Promise<void>((resolve) => {
      wakeConsumer = resolve;
    }).then(() => order.push(`consumer saw ${state}`));
    const writer = c
      .submit([del("a", 1)], () => {
        state = "new";
        wakeConsumer();
      })
      .then(() => order.push(`writer saw ${state}`));
    await Promise.all([writer, consumer]);
    expect(order).toEqual(["writer saw new", "consumer saw new"]);
  });

  it("rejects every write of a failed commit with STORAGE_UNAVAILABLE and applies none", async () => {
    const store = new FakePersistence();
    const c = new GroupCommitter(store);
    const applied: string[] = [];
    store.hold();
    const first = c.submit([del("a", 1)], () => applied.push("a"));
    await flush();
    const cause = new Error("EIO");
    store.failNext(cause); // the next commit call (the group) fails
    const group = [
      track(c.submit([del("b", 2)], () => applied.push("b"))),
      track(c.submit([del("c", 3)], () => applied.push("c"))),
    ];
    store.release();
    await first;
    await c.onIdle();
    await flush();
    expect(applied).toEqual(["a"]);
    for (const t of group) {
      expect(t.error).toBeInstanceOf(SwitchboardError);
      expect(t.error).toMatchObject({ code: "STORAGE_UNAVAILABLE", cause });
    }
    // The committer carries on after a failure.
    await c.submit([del("d", 4)], () => applied.push("d"));
    expect(applied).toEqual(["a", "d"]);
  });

  it("passes a SwitchboardError from the store through unchanged", async () => {
    const store = new FakePersistence();
    const c = new GroupCommitter(store);
    const err = new SwitchboardError("STORAGE_CORRUPT", "bad log");
    store.failNext(err);
    await expect(c.submit([del("a", 1)], () => undefined)).rejects.toBe(err);
  });

  it("runs an exclusive task only between commits", async () => {
    const store = new FakePersistence();
    const c = new GroupCommitter(store);
    const order: string[] = [];
    store.hold();
    const w = c.submit([del("a", 1)], () => order.push("applied a"));
    await flush();
    const task = c.exclusive(async () => {
      order.push(`task saw ${store.held} held`);
      return 7;
    });
    await flush();
    expect(order).toEqual([]);
    store.release();
    await w;
    expect(await task).toBe(7);
    expect(order).toEqual(["applied a", "task saw 0 held"]);
  });
});
