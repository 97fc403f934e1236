// Switchboard.touch (lease renewal without a revision) and patchMetadata (key-wise metadata writes under the guard).

import { afterEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../../src/core/errors.js";
import { internals, type Switchboard } from "../../../src/core/switchboard.js";
import { flush, track } from "../../helpers/flush.js";
import { advance, openBoard } from "./fixture.js";

const open: Switchboard[] = [];
async function board() {
  const b = await openBoard();
  open.push(b.sb);
  return b;
}
afterEach(async () => {
  for (const sb of open.splice(0)) await sb.close();
});

describe("touch", () => {
  it("moves the deadline only: no revision, no event, no wake-up", async () => {
    const { sb, clock, store, events } = await board();
    await sb.set([{ name: "s", value: { host: "h" }, metadata: { m: 1 }, ttlMs: 5000 }]);
    await advance(clock, 3000, 1000);
    const rev = sb.revision;
    const waiter = track(internals.wait(sb, "consumer", { names: ["s"] }, { timeoutMs: 60_000 }));
    const touched = await sb.touch("s", 5000);
    await flush();
    expect(touched.expiresAt).toBe(clock.now() + 5000);
    expect(sb.get("s")!.expiresAt).toBe(clock.now() + 5000);
    expect(sb.revision).toBe(rev);
    expect(events).toHaveLength(1);
    expect(waiter.settled).toBe(false);
    expect(store.commits.at(-1)).toEqual([{ type: "refresh", name: "s", expiresAt: clock.now() + 5000 }]);
    // The lease now outlives its first deadline.
    await advance(clock, 4000, 1000);
    expect(sb.get("s")).toBeDefined();
  });

  it("keeps a value written after the caller last read it", async () => {
    const { sb } = await board();
    await sb.set([{ name: "s", value: 1, ttlMs: 5000 }]);
    // Both queue on the register's guard; the touch must not write back the value it never read.
    const write = sb.set([{ name: "s", value: 2 }]);
    const touch = sb.touch("s", 5000);
    await Promise.all([write, touch]);
    expect(sb.get("s")!.value).toBe(2);
  });

  it("answers REGISTER_NOT_FOUND for an absent register and TTL_OUT_OF_RANGE for a bad ttl", async () => {
    const { sb } = await board();
    await expect(sb.touch("nope", 1000)).rejects.toMatchObject({ code: "REGISTER_NOT_FOUND" });
    await sb.set([{ name: "s", value: 1 }]);
    await expect(sb.touch("s", -1)).rejects.toBeInstanceOf(SwitchboardError);
    await expect(sb.touch("s", -1)).rejects.toMatchObject({ code: "TTL_OUT_OF_RANGE" });
  });

  it("commits nothing when the deadline does not move", async () => {
    const { sb, store } = await board();
    await sb.set([{ name: "s", value: 1 }]);
    const commits = store.commits.length;
    await sb.touch("s", null);
    expect(store.commits.length).toBe(commits);
  });
});

describe("patchMetadata", () => {
  it("sets and removes keys, keeping value, other keys and the deadline, at a new revision", async () => {
    const { sb, clock } = await board();
    await sb.set([{ name: "s", value: { host: "h" }, metadata: { owner: "a" }, ttlMs: 5000 }]);
    const deadline = sb.get("s")!.expiresAt;
    const waiter = track(internals.wait(sb, "consumer", { names: ["s"] }, { timeoutMs: 60_000 }));
    clock.advance(10);
    const r = await sb.patchMetadata("s", { health: { status: "passing" } });
    await flush();
    expect(r.changed).toBe(true);
    expect(r.register).toMatchObject({
      value: { host: "h" },
      metadata: { owner: "a", health: { status: "passing" } },
      version: 2,
      expiresAt: deadline,
      updatedAt: clock.now(),
    });
    expect(waiter.value).toMatchObject({ reason: "change", event: { type: "set", name: "s" } });
    const removed = await sb.patchMetadata("s", { health: undefined });
    expect(removed.register.metadata).toEqual({ owner: "a" });
  });

  it("commits nothing when the patch changes nothing", async () => {
    const { sb, store, events } = await board();
    await sb.set([{ name: "s", value: 1, metadata: { health: { status: "passing" } } }]);
    const commits = store.commits.length;
    const rev = sb.revision;
    const r = await sb.patchMetadata("s", { health: { status: "passing" }, absent: undefined });
    expect(r.changed).toBe(false);
    expect(sb.revision).toBe(rev);
    expect(store.commits.length).toBe(commits);
    expect(events).toHaveLength(1);
  });

  it("does not lose a value written concurrently", async () => {
    const { sb } = await board();
    await sb.set([{ name: "s", value: 1 }]);
    await Promise.all([sb.set([{ name: "s", value: 2 }]), sb.patchMetadata("s", { k: true })]);
    expect(sb.get("s")).toMatchObject({ value: 2, metadata: { k: true } });
  });

  it("refuses metadata over the limit and absent registers, applying nothing", async () => {
    const { sb } = await board();
    await expect(sb.patchMetadata("nope", { k: 1 })).rejects.toMatchObject({ code: "REGISTER_NOT_FOUND" });
    await sb.set([{ name: "s", value: 1 }]);
    await expect(sb.patchMetadata("s", { big: "x".repeat(20_000) })).rejects.toMatchObject({
      code: "METADATA_TOO_LARGE",
    });
    expect(sb.get("s")!.metadata).toEqual({});
  });
});
