// Change-request expiry on the fake clock: undelivered requests leave the queue at expiresAt with an event; delivered ones stay.

import { afterEach, describe, expect, it } from "vitest";
import { providerPoll } from "../../../src/core/polls.js";
import type { Switchboard } from "../../../src/core/switchboard.js";
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

describe("request expiry", () => {
  it("an undelivered request leaves the queue after expiresIn, with an ack event naming it", async () => {
    const { sb, clock, events } = await board();
    await sb.set([{ name: "heater", value: "off" }]);
    const [req] = await sb.request([{ name: "heater", value: "on", expiresInMs: 5000 }]);
    expect(req!.expiresAt).toBe(clock.now() + 5000);
    await advance(clock, 4000, 1000);
    expect(sb.queued("heater")).toHaveLength(1);
    await advance(clock, 2000, 1000);
    expect(sb.queued("heater")).toEqual([]);
    expect(sb.stats().queuedRequests).toBe(0);
    expect(events.at(-1)).toMatchObject({
      type: "ack",
      name: "heater",
      upTo: req!.id,
      ids: [req!.id],
      reason: "request_expired",
    });
    // The register itself is untouched.
    expect(sb.get("heater")!.value).toBe("off");
  });

  it("takes the server's request TTL by default, and 0 keeps a request forever", async () => {
    const { sb, clock } = await board({ requestTtlMs: 10_000 });
    await sb.set([{ name: "lamp", value: "off" }]);
    const [byDefault, forever] = await sb.request([
      { name: "lamp", value: "on" },
      { name: "lamp", value: "dim", expiresInMs: 0 },
    ]);
    expect(byDefault!.expiresAt).toBe(clock.now() + 10_000);
    expect(forever!.expiresAt).toBeUndefined();
    await advance(clock, 11_000, 1000);
    expect(sb.queued("lamp").map((r) => r.id)).toEqual([forever!.id]);
  });

  it("expires a short request behind a longer one, keeping the longer one in place", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [long, short, last] = await sb.request([
      { name: "lamp", value: 1, expiresInMs: 3_600_000 },
      { name: "lamp", value: 2, expiresInMs: 2000 },
      { name: "lamp", value: 3, expiresInMs: 3_600_000 },
    ]);
    await advance(clock, 3000, 1000);
    expect(sb.queued("lamp").map((r) => r.id)).toEqual([long!.id, last!.id]);
    expect(sb.queued("lamp").map((r) => r.id)).not.toContain(short!.id);
  });

  it("a request a provider poll delivered does not expire: it waits for the provider's ack", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [req] = await sb.request([{ name: "lamp", value: "on", expiresInMs: 2000 }]);
    const polled = await providerPoll(sb, { names: ["lamp"] }, undefined, { waitMs: 0 });
    expect(polled.requests.map((r) => r.id)).toEqual([req!.id]);
    await advance(clock, 5000, 1000);
    expect(sb.queued("lamp").map((r) => r.id)).toEqual([req!.id]);
    await sb.acknowledge({ names: ["lamp"] }, req!.id);
    expect(sb.queued("lamp")).toEqual([]);
  });

  it("replaying the store rebuilds the queue without the expired request, and deadlines survive a restart", async () => {
    const first = await board();
    await first.sb.set([{ name: "lamp", value: "off" }]);
    const [gone, kept] = await first.sb.request([
      { name: "lamp", value: 1, expiresInMs: 1000 },
      { name: "lamp", value: 2, expiresInMs: 8000 },
    ]);
    await advance(first.clock, 2000, 1000);
    await first.sb.close();
    const again = await board({ store: first.store, clock: first.clock });
    expect(again.sb.queued("lamp").map((r) => r.id)).toEqual([kept!.id]);
    expect(again.sb.queued("lamp").map((r) => r.id)).not.toContain(gone!.id);
    await advance(again.clock, 7000, 1000);
    expect(again.sb.queued("lamp")).toEqual([]);
  });

  it("rejects an expiresIn beyond the TTL limit and queues nothing", async () => {
    const { sb } = await board({ limits: { maxTtlMs: 60_000 } });
    await sb.set([{ name: "lamp", value: "off" }]);
    await expect(sb.request([{ name: "lamp", value: "on", expiresInMs: 120_000 }])).rejects.toMatchObject({
      code: "TTL_OUT_OF_RANGE",
    });
    await expect(sb.request([{ name: "lamp", value: "on", expiresInMs: -1 }])).rejects.toMatchObject({
      code: "TTL_OUT_OF_RANGE",
    });
    expect(sb.queued("lamp")).toEqual([]);
  });
});
