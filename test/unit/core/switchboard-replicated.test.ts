// The core as a cluster member: a follower refuses writes before assigning anything, applies the writer's entries through the live apply path, and continues the counters when it becomes the writer.

import { afterEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../../src/core/errors.js";
import { internals, type Switchboard } from "../../../src/core/switchboard.js";
import type { Mutation, Register } from "../../../src/core/types.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
import { flush, track } from "../../helpers/flush.js";
import { advance, openBoard } from "./fixture.js";

/** A shared store whose writer role the test switches. */
class ClusterStore extends FakePersistence {
  writerNow = false;
  holder: string | null = "node-b";
  isWriter(): boolean {
    return this.writerNow;
  }
  writer(): string | null {
    return this.holder;
  }
}

const open: Switchboard[] = [];
async function follower(ttlGraceMs?: number) {
  const store = new ClusterStore();
  const b = await openBoard({ store, ...(ttlGraceMs === undefined ? {} : { ttlGraceMs }) });
  open.push(b.sb);
  return { ...b, store };
}
afterEach(async () => {
  for (const sb of open.splice(0)) await sb.close();
});

function register(name: string, revision: number, value: number, expiresAt: number | null = null): Register {
  return {
    name,
    value,
    metadata: {},
    createRevision: revision,
    modRevision: revision,
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    expiresAt,
  };
}
const set = (name: string, revision: number, value: number, expiresAt: number | null = null): Mutation => ({
  type: "set",
  name,
  revision,
  register: register(name, revision, value, expiresAt),
});

describe("a follower's writes", () => {
  it("are refused with NOT_WRITER naming the writer, before any commit or revision", async () => {
    const { sb, store } = await follower();
    const attempts = [
      () => sb.set([{ name: "a", value: 1 }]),
      () => sb.delete(["a"]),
      () => sb.request([{ name: "a", value: 1 }]),
      () => sb.touch("a", 1000),
      () => sb.patchMetadata("a", { k: 1 }),
    ];
    for (const attempt of attempts) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect((err as SwitchboardError).code).toBe("NOT_WRITER");
      expect((err as SwitchboardError).details).toEqual({ writer: "node-b" });
      expect((err as SwitchboardError).retryAfter).toBe(1);
    }
    store.holder = null;
    const none = (await sb.set([{ name: "a", value: 1 }]).catch((e: unknown) => e)) as SwitchboardError;
    expect(none.details).toEqual({ writer: null });
    expect(store.commits).toEqual([]);
    expect(sb.revision).toBe(0);
  });
});

describe("applyReplicated", () => {
  it("updates state and wakes consumer long-polls, provider polls and listeners like a local write", async () => {
    const { sb, events } = await follower();
    const consumer = track(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 60_000 }));
    const provider = track(internals.wait(sb, "provider", { prefixes: ["a"] }, { timeoutMs: 60_000 }));
    sb.applyReplicated([set("a", 1, 7)]);
    await flush();
    expect(consumer.settled).toBe(true);
    expect(consumer.value).toMatchObject({ reason: "change", event: { type: "set", revision: 1 } });
    expect(provider.settled).toBe(false);
    sb.applyReplicated([
      { type: "request", name: "a", revision: 2, request: { id: 1, name: "a", value: 8, requestedAt: 0 } },
    ]);
    await flush();
    expect(provider.value).toMatchObject({ reason: "change" });
    expect(sb.get("a")?.value).toBe(7);
    expect(sb.revision).toBe(2);
    expect(sb.lastRequestId).toBe(1);
    expect(sb.pendingRequests({ names: ["a"] })).toHaveLength(1);
    expect(events.map((e) => e.revision)).toEqual([1, 2]);
    expect(sb.eventsSince(0)?.map((e) => e.revision)).toEqual([1, 2]);
  });

  it("skips entries at or below the current revision: no second event, no wake-up", async () => {
    const { sb, events } = await follower();
    sb.applyReplicated([set("a", 1, 1), set("b", 2, 2)]);
    const waiter = track(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 60_000 }));
    sb.applyReplicated([set("a", 1, 99), set("b", 2, 99), set("c", 3, 3)]);
    await flush();
    expect(waiter.settled).toBe(false);
    expect(sb.get("a")?.value).toBe(1);
    expect(events.map((e) => e.revision)).toEqual([1, 2, 3]);
  });
});

describe("the writer role", () => {
  it("only the writer sweeps TTLs; a follower keeps an overdue register until the writer's expire arrives", async () => {
    const { sb, clock, store } = await follower(0);
    sb.applyReplicated([set("t", 1, 1, clock.now() + 1000)]);
    await advance(clock, 3000, 500);
    expect(sb.get("t")).toBeDefined();
    expect(store.commits).toEqual([]);
    store.writerNow = true;
    await advance(clock, 1000, 500);
    expect(sb.get("t")).toBeUndefined();
    expect(store.commits.flat()).toEqual([{ type: "expire", name: "t", revision: 2 }]);
  });

  it("a follower that becomes the writer continues revisions and request ids without a gap", async () => {
    const { sb, store } = await follower();
    const refused = await sb.request([{ name: "a", value: 0 }]).catch((e: unknown) => e);
    expect((refused as SwitchboardError).code).toBe("NOT_WRITER");
    sb.applyReplicated([
      set("a", 1, 1),
      { type: "request", name: "a", revision: 2, request: { id: 5, name: "a", value: 2, requestedAt: 0 } },
    ]);
    store.writerNow = true;
    const [r] = await sb.set([{ name: "b", value: 1 }]);
    const [q] = await sb.request([{ name: "a", value: 3 }]);
    expect(r!.register.modRevision).toBe(3);
    expect(q!.id).toBe(6);
    expect(sb.revision).toBe(4);
  });
});
