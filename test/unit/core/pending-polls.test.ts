// Consumer polls with pending: each register's queued change requests in the answer, and wakes on the queue.

import { afterEach, describe, expect, it } from "vitest";
import { consumerPoll } from "../../../src/core/polls.js";
import type { Switchboard } from "../../../src/core/switchboard.js";
import { flush, track } from "../../helpers/flush.js";
import { openBoard } from "./fixture.js";

const open: Switchboard[] = [];
async function board() {
  const b = await openBoard();
  open.push(b.sb);
  return b;
}
afterEach(async () => {
  for (const sb of open.splice(0)) await sb.close();
});

const opts = { waitMs: 30_000, random: () => 0 };

describe("consumerPoll with pending", () => {
  it("answers each found register's pending requests next to its value", async () => {
    const { sb } = await board();
    await sb.set([
      { name: "lamp", value: "off" },
      { name: "fan", value: 0 },
    ]);
    const [r1, r2] = await sb.request([
      { name: "lamp", value: "on", requester: "app" },
      { name: "lamp", value: "dim" },
    ]);
    const res = await consumerPoll(sb, { names: ["lamp", "fan", "gone"] }, undefined, { ...opts, pending: true });
    expect(res.pending).toEqual(
      new Map([
        ["lamp", [r1, r2]],
        ["fan", []],
      ]),
    );
    const plain = await consumerPoll(sb, { names: ["lamp"] }, undefined, opts);
    expect(plain.pending).toBeUndefined();
  });

  it("a new request wakes a pending poll, but not a plain one", async () => {
    const { sb } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const index = sb.revision;
    const withPending = track(consumerPoll(sb, { names: ["lamp"] }, index, { ...opts, pending: true }));
    const plain = track(consumerPoll(sb, { names: ["lamp"] }, index, opts));
    await flush();
    expect(sb.stats().waiters.consumer).toBe(2);
    const [req] = await sb.request([{ name: "lamp", value: "on" }]);
    await flush();
    expect(withPending.settled).toBe(true);
    expect(withPending.value!.pending!.get("lamp")).toEqual([req]);
    expect(withPending.value!.index).toBe(sb.revision);
    expect(plain.settled).toBe(false);
    expect(sb.stats().waiters.consumer).toBe(1);
    // The plain poll still wakes on a value change, and every waiter is released.
    await sb.set([{ name: "lamp", value: "on" }]);
    await flush();
    expect(plain.settled).toBe(true);
    expect(sb.stats().waiters.consumer).toBe(0);
  });

  it("the queue leaving (acknowledged) wakes a pending poll; an index after a request answers at once", async () => {
    const { sb } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const before = sb.revision;
    const [req] = await sb.request([{ name: "lamp", value: "on" }]);
    // A looping consumer that last saw `before` learns of the request at once.
    const atOnce = await consumerPoll(sb, { prefixes: ["la"] }, before, { ...opts, pending: true });
    expect(atOnce.pending!.get("lamp")).toEqual([req]);
    const waiting = track(consumerPoll(sb, { prefixes: ["la"] }, atOnce.index, { ...opts, pending: true }));
    await flush();
    expect(waiting.settled).toBe(false);
    await sb.acknowledge({ names: ["lamp"] }, req!.id);
    await flush();
    expect(waiting.settled).toBe(true);
    expect(waiting.value!.pending!.get("lamp")).toEqual([]);
  });

  it("a request on an unwatched register wakes nothing", async () => {
    const { sb } = await board();
    await sb.set([
      { name: "lamp", value: "off" },
      { name: "fan", value: 0 },
    ]);
    const waiting = track(consumerPoll(sb, { names: ["lamp"] }, sb.revision, { ...opts, pending: true }));
    await flush();
    await sb.request([{ name: "fan", value: 1 }]);
    await flush();
    expect(waiting.settled).toBe(false);
    await sb.close();
    await flush();
    expect(waiting.settled).toBe(true);
  });
});
