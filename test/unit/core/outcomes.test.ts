// Request outcomes on the fake clock: life cycle, provider reports, waits, expiry and drops, the history window.

import { afterEach, describe, expect, it } from "vitest";
import { providerPoll } from "../../../src/core/polls.js";
import type { Switchboard } from "../../../src/core/switchboard.js";
import { flush, track } from "../../helpers/flush.js";
import { advance, type BoardOptions, openBoard } from "./fixture.js";

const open: Switchboard[] = [];
async function board(options: BoardOptions = {}) {
  const b = await openBoard(options);
  open.push(b.sb);
  return b;
}
afterEach(async () => {
  for (const sb of open.splice(0)) if (!sb.closing) await sb.close();
});

describe("outcomes", () => {
  it("pending → delivered → done through an after= acknowledgement", async () => {
    const { sb } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [req] = await sb.request([{ name: "lamp", value: "on", requester: "app" }]);
    expect(sb.outcome(req!.id)).toMatchObject({ status: "pending", name: "lamp", requester: "app" });
    await providerPoll(sb, { names: ["lamp"] }, undefined, { waitMs: 0 });
    expect(sb.outcome(req!.id)!.status).toBe("delivered");
    const waiting = track(sb.waitOutcome(req!.id, 60_000));
    await flush();
    expect(waiting.settled).toBe(false);
    await providerPoll(sb, { names: ["lamp"] }, req!.id, { waitMs: 0 });
    await flush();
    expect(waiting.value).toMatchObject({ id: req!.id, status: "done" });
  });

  it("a provider's report carries rejected/failed with result and message, in the ack event", async () => {
    const { sb, events } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [a, b] = await sb.request([
      { name: "lamp", value: "on" },
      { name: "lamp", value: "blink" },
    ]);
    const waiting = track(sb.waitOutcome(b!.id, 60_000));
    const answered = await sb.report([
      { id: a!.id, status: "done", result: { watts: 9 } },
      { id: b!.id, status: "rejected", message: "blink is not supported" },
      { id: 999, status: "done" },
    ]);
    expect(answered.map((o) => o?.status)).toEqual(["done", "rejected", undefined]);
    expect(answered[0]!.result).toEqual({ watts: 9 });
    await flush();
    expect(waiting.value).toMatchObject({ status: "rejected", message: "blink is not supported" });
    expect(sb.queued("lamp")).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: "ack", reason: "acknowledged", ids: [a!.id, b!.id] });
    // A second report for a finished request changes nothing.
    const again = await sb.report([{ id: a!.id, status: "failed" }]);
    expect(again[0]!.status).toBe("done");
  });

  it("a request to an offline device expires, and its waiter answers expired", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "heater", value: "off" }]);
    const [req] = await sb.request([{ name: "heater", value: "on", expiresInMs: 3000 }]);
    const waiting = track(sb.waitOutcome(req!.id, 60_000));
    await advance(clock, 4000, 1000);
    expect(waiting.value).toMatchObject({ status: "expired" });
  });

  it("deleting the register drops its requests", async () => {
    const { sb } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [req] = await sb.request([{ name: "lamp", value: "on" }]);
    await sb.delete(["lamp"]);
    expect(sb.outcome(req!.id)!.status).toBe("dropped");
  });

  it("keeps a final outcome for the request history, then forgets it", async () => {
    const { sb, clock } = await board({ requestHistoryMs: 5000 });
    await sb.set([{ name: "lamp", value: "off" }]);
    const [req] = await sb.request([{ name: "lamp", value: "on" }]);
    await sb.report([{ id: req!.id, status: "done" }]);
    clock.advance(4000);
    expect(sb.outcome(req!.id)?.status).toBe("done");
    clock.advance(2000);
    expect(sb.outcome(req!.id)).toBeUndefined();
  });

  it("a wait times out with the current outcome and releases its timer", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [req] = await sb.request([{ name: "lamp", value: "on", expiresInMs: 0 }]);
    const timers = clock.pendingTimers;
    const waiting = track(sb.waitOutcome(req!.id, 1000));
    expect(clock.pendingTimers).toBe(timers + 1);
    clock.advance(1000);
    await flush();
    expect(waiting.value).toMatchObject({ status: "pending" });
    expect(clock.pendingTimers).toBe(timers);
  });
});

describe("requestKey", () => {
  it("ten retries with one key make one request, per register, until the history forgets it", async () => {
    const { sb, clock } = await board({ requestHistoryMs: 5000 });
    await sb.set([
      { name: "lamp", value: "off" },
      { name: "fan", value: 0 },
    ]);
    const ids = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const [r] = await sb.request([{ name: "lamp", value: "on", requestKey: "k1" }]);
      ids.add(r!.id);
    }
    expect(ids.size).toBe(1);
    expect(sb.queued("lamp")).toHaveLength(1);
    // The same key on another register is another request; within one batch it is one.
    const [fan, fanAgain] = await sb.request([
      { name: "fan", value: 1, requestKey: "k1" },
      { name: "fan", value: 1, requestKey: "k1" },
    ]);
    expect(fan!.id).not.toBe([...ids][0]);
    expect(fanAgain!.id).toBe(fan!.id);
    expect(sb.queued("fan")).toHaveLength(1);
    // Finished, the key still answers the first request for the history window, then is free again.
    const first = [...ids][0]!;
    await sb.report([{ id: first, status: "done" }]);
    expect((await sb.request([{ name: "lamp", value: "on", requestKey: "k1" }]))[0]!.id).toBe(first);
    expect(sb.queued("lamp")).toEqual([]);
    clock.advance(6000);
    const [fresh] = await sb.request([{ name: "lamp", value: "on", requestKey: "k1" }]);
    expect(fresh!.id).toBeGreaterThan(first);
  });

  it("a retry skips the conditions the first request passed", async () => {
    const { sb } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [a] = await sb.request([{ name: "lamp", value: "on", ifVersion: 1, requestKey: "r" }]);
    await sb.set([{ name: "lamp", value: "dim" }]);
    const [b] = await sb.request([{ name: "lamp", value: "on", ifVersion: 1, requestKey: "r" }]);
    expect(b!.id).toBe(a!.id);
  });
});
