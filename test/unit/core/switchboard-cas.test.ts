// Compare-and-set in the core: ifVersion / ifModRevision on set, delete and request, all or nothing.

import { afterEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../../src/core/errors.js";
import type { Switchboard } from "../../../src/core/switchboard.js";
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

async function conflictOf(p: Promise<unknown>): Promise<SwitchboardError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SwitchboardError);
  expect((err as SwitchboardError).code).toBe("VERSION_CONFLICT");
  return err as SwitchboardError;
}

describe("set with conditions", () => {
  it("ifVersion 0 creates only", async () => {
    const { sb } = await board();
    const [first] = await sb.set([{ name: "a", value: 1, ifVersion: 0 }]);
    expect(first!.register.version).toBe(1);
    const err = await conflictOf(sb.set([{ name: "a", value: 2, ifVersion: 0 }]));
    expect(err.details).toEqual({
      conflicts: [{ name: "a", version: 1, modRevision: first!.register.modRevision, ifVersion: 0 }],
    });
    expect(sb.get("a")!.value).toBe(1);
  });

  it("applies when the version matches and rejects a stale one", async () => {
    const { sb } = await board();
    await sb.set([{ name: "a", value: 1 }]);
    const [ok] = await sb.set([{ name: "a", value: 2, ifVersion: 1 }]);
    expect(ok!.register.version).toBe(2);
    await conflictOf(sb.set([{ name: "a", value: 3, ifVersion: 1 }]));
    expect(sb.get("a")!.value).toBe(2);
  });

  it("checks ifModRevision against the register's last change, absent = 0", async () => {
    const { sb } = await board();
    await sb.set([{ name: "other", value: 0 }]);
    const [a] = await sb.set([{ name: "a", value: 1 }]);
    await sb.set([{ name: "other", value: 1 }]);
    // Other registers' changes do not move a's modRevision.
    await sb.set([{ name: "a", value: 2, ifModRevision: a!.register.modRevision }]);
    const err = await conflictOf(sb.set([{ name: "b", value: 1, ifModRevision: 7 }]));
    expect(err.details).toEqual({ conflicts: [{ name: "b", version: 0, modRevision: 0, ifModRevision: 7 }] });
  });

  it("a batch with one stale condition changes nothing and names every failure", async () => {
    const { sb, store, events } = await board();
    await sb.set([
      { name: "a", value: 1 },
      { name: "b", value: 1 },
      { name: "c", value: 1 },
    ]);
    await sb.set([{ name: "c", value: 2 }]);
    const commits = store.commits.length;
    const eventCount = events.length;
    const rev = sb.revision;
    const err = await conflictOf(
      sb.set([
        { name: "a", value: 9, ifVersion: 1 },
        { name: "b", value: 9 },
        { name: "c", value: 9, ifVersion: 1 },
        { name: "d", value: 9, ifVersion: 3 },
      ]),
    );
    expect((err.details as { conflicts: { name: string }[] }).conflicts.map((c) => c.name)).toEqual(["c", "d"]);
    expect(store.commits.length).toBe(commits);
    expect(events.length).toBe(eventCount);
    expect(sb.revision).toBe(rev);
    expect([sb.get("a")!.value, sb.get("b")!.value, sb.get("c")!.value, sb.get("d")]).toEqual([1, 1, 2, undefined]);
  });

  it("two writers racing on the same version: exactly one wins, every round", async () => {
    const { sb } = await board();
    await sb.set([{ name: "x", value: 0 }]);
    for (let round = 0; round < 1000; round++) {
      const seen = sb.get("x")!.version;
      const results = await Promise.allSettled([
        sb.set([{ name: "x", value: `a${round}`, ifVersion: seen }]),
        sb.set([{ name: "x", value: `b${round}`, ifVersion: seen }]),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect((lost.reason as SwitchboardError).code).toBe("VERSION_CONFLICT");
      expect(sb.get("x")!.version).toBe(seen + 1);
    }
  });

  it("rejects malformed conditions before taking any guard", async () => {
    const { sb } = await board();
    for (const bad of [-1, 1.5, Number.NaN]) {
      await expect(sb.set([{ name: "a", value: 1, ifVersion: bad }])).rejects.toMatchObject({ code: "INVALID_BODY" });
    }
    expect(sb.get("a")).toBeUndefined();
  });
});

describe("delete with conditions", () => {
  it("deletes only at the expected version; a failed batch deletes nothing", async () => {
    const { sb } = await board();
    await sb.set([
      { name: "a", value: 1 },
      { name: "b", value: 1 },
    ]);
    await sb.set([{ name: "b", value: 2 }]);
    const err = await conflictOf(
      sb.delete([
        { name: "a", ifVersion: 1 },
        { name: "b", ifVersion: 1 },
      ]),
    );
    expect(err.details).toEqual({
      conflicts: [{ name: "b", version: 2, modRevision: sb.get("b")!.modRevision, ifVersion: 1 }],
    });
    expect(sb.get("a")).toBeDefined();
    expect(await sb.delete([{ name: "a", ifVersion: 1 }, "b"])).toEqual(["a", "b"]);
  });

  it("a conditional delete of an absent register conflicts instead of being ignored", async () => {
    const { sb } = await board();
    await conflictOf(sb.delete([{ name: "ghost", ifVersion: 1 }]));
    expect(await sb.delete(["ghost"])).toEqual([]);
  });
});

describe("requests with conditions", () => {
  it("queues only while the register is at the version the requester saw", async () => {
    const { sb } = await board();
    await sb.set([{ name: "lamp", value: "off" }]);
    const [req] = await sb.request([{ name: "lamp", value: "on", ifVersion: 1 }]);
    expect(req!.id).toBeGreaterThan(0);
    await sb.set([{ name: "lamp", value: "dim" }]);
    const err = await conflictOf(
      sb.request([
        { name: "lamp", value: "on", ifVersion: 1 },
        { name: "lamp", value: "off" },
      ]),
    );
    expect(err.details).toMatchObject({ conflicts: [{ name: "lamp", version: 2, ifVersion: 1 }] });
    expect(sb.pendingRequests({ names: ["lamp"] }).map((r) => r.id)).toEqual([req!.id]);
  });

  it("a condition on a gone register is a conflict at version 0", async () => {
    const { sb } = await board();
    const err = await conflictOf(sb.request([{ name: "gone", value: 1, ifVersion: 2 }]));
    expect(err.details).toEqual({ conflicts: [{ name: "gone", version: 0, modRevision: 0, ifVersion: 2 }] });
  });
});
