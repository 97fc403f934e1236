// The core's cluster seams: a follower forwards every write to the writer and answers once it applied the result
// (errors come back unchanged), and a poll ahead of the node waits for its tail before answering resync.

import { afterEach, describe, expect, it } from "vitest";
import { SwitchboardError } from "../../../src/core/errors.js";
import type { ForwardedWrite } from "../../../src/core/ports.js";
import { Switchboard } from "../../../src/core/switchboard.js";
import type { Mutation } from "../../../src/core/types.js";
import { FakeClock } from "../../helpers/fake-clock.js";
import { FakePersistence } from "../../helpers/fake-persistence.js";
import { flush } from "../../helpers/flush.js";

/** The writer's store: records the handler the core registers for forwarded writes. */
class WriterStore extends FakePersistence {
  run: ((call: ForwardedWrite) => Promise<unknown>) | undefined;
  isWriter(): boolean {
    return true;
  }
  serveForwarded(run: (call: ForwardedWrite) => Promise<unknown>): void {
    this.run = run;
  }
}

/** A follower's store: forwards over a JSON round trip (as over NATS), then applies what the writer committed. */
class FollowerStore extends FakePersistence {
  forwarded: ForwardedWrite[] = [];
  applied = 0;
  constructor(
    readonly writerStore: WriterStore,
    readonly follower: () => Switchboard,
  ) {
    super();
  }
  isWriter(): boolean {
    return false;
  }
  async forward(call: ForwardedWrite): Promise<unknown> {
    const wire = JSON.parse(JSON.stringify(call)) as ForwardedWrite;
    this.forwarded.push(wire);
    let result: unknown;
    try {
      result = await this.writerStore.run!(wire);
    } catch (err) {
      const e = err as SwitchboardError;
      throw new SwitchboardError(e.code, e.message, { details: e.details });
    }
    const fresh: Mutation[] = this.writerStore.committedMutations().slice(this.applied);
    this.applied += fresh.length;
    this.follower().applyReplicated(fresh);
    return JSON.parse(JSON.stringify(result ?? null));
  }
}

const open: Switchboard[] = [];
afterEach(async () => {
  for (const sb of open.splice(0)) await sb.close();
});

async function pair() {
  const clock = new FakeClock();
  const wStore = new WriterStore();
  const writer = await Switchboard.open({ persistence: wStore, clock });
  let follower: Switchboard | undefined;
  const fStore = new FollowerStore(wStore, () => follower!);
  follower = await Switchboard.open({ persistence: fStore, clock, aheadWaitMs: 1000 });
  open.push(writer, follower);
  return { clock, writer, follower, fStore, wStore };
}

describe("writes on a follower", () => {
  it("run on the writer, and the follower has applied them when it answers", async () => {
    const { writer, follower, fStore } = await pair();
    const [set] = await follower.set([{ name: "a", value: 1, metadata: { keep: 1, drop: 2 }, ttlMs: 60_000 }]);
    expect(set).toMatchObject({ changed: true, register: { name: "a", value: 1, modRevision: 1 } });
    expect(follower.get("a")).toEqual(writer.get("a"));

    const patched = await follower.patchMetadata("a", { drop: undefined, add: 3 });
    expect(patched.register.metadata).toEqual({ keep: 1, add: 3 });
    expect(follower.get("a")?.metadata).toEqual({ keep: 1, add: 3 });

    const touched = await follower.touch("a", 120_000);
    expect(touched.expiresAt).toBe(writer.get("a")?.expiresAt);

    const [req] = await follower.request([{ name: "a", value: 2, requestKey: "k1" }]);
    expect(req).toMatchObject({ id: 1, name: "a", value: 2 });
    expect(follower.queued("a").map((r) => r.id)).toEqual([1]);
    expect(await follower.acknowledge({ names: ["a"] }, 1)).toBe(1);
    expect(follower.queued("a")).toEqual([]);

    await follower.request([{ name: "a", value: 3 }]);
    const outcomes = await follower.report([
      { id: 2, status: "done", result: "ok" },
      { id: 99, status: "done" },
    ]);
    expect(outcomes[0]).toMatchObject({ id: 2, status: "done", result: "ok" });
    expect(outcomes[1]).toBeUndefined();
    expect(follower.outcome(2)).toMatchObject({ status: "done" });

    expect(await follower.delete(["a"])).toEqual(["a"]);
    expect(follower.get("a")).toBeUndefined();
    expect(follower.revision).toBe(writer.revision);
    expect(fStore.forwarded.map((c) => c.op)).toEqual([
      "set",
      "patchMetadata",
      "touch",
      "request",
      "acknowledge",
      "request",
      "report",
      "delete",
    ]);
    // The follower committed nothing itself.
    expect(fStore.commits).toEqual([]);
  });

  it("come back with the writer's error unchanged", async () => {
    const { follower } = await pair();
    await follower.set([{ name: "a", value: 1 }]);
    const err = await follower.set([{ name: "a", value: 2, ifVersion: 7 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ code: "VERSION_CONFLICT" });
    const bad = await follower.set([{ name: "", value: 2 }]).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "INVALID_NAME" });
    expect(follower.get("a")?.value).toBe(1);
  });

  it("acknowledging nothing the follower knows of forwards nothing", async () => {
    const { follower, fStore } = await pair();
    expect(await follower.acknowledge({ names: ["a"] }, 5)).toBe(0);
    expect(fStore.forwarded).toEqual([]);
  });
});

describe("a provider poll on a follower", () => {
  it("sends its delivery marks to the writer: the request no longer expires there, and every node applies the mark", async () => {
    const { writer, follower, fStore, wStore, clock } = await pair();
    await follower.set([{ name: "d", value: 0 }]);
    const [r] = await follower.request([{ name: "d", value: 1, expiresInMs: 5_000 }]);
    const answer = await follower.providerPoll({ names: ["d"] }, 0, { waitMs: 0 });
    expect(answer.requests.map((q) => q.id)).toEqual([r!.id]);
    await flush();
    expect(fStore.forwarded.map((c) => c.op)).toEqual(["set", "request", "deliver"]);
    expect(wStore.committedMutations().filter((m) => m.type === "deliver")).toMatchObject([
      { type: "deliver", name: "d", ids: [r!.id] },
    ]);
    expect(writer.outcome(r!.id)).toMatchObject({ status: "delivered" });
    expect(follower.outcome(r!.id)).toMatchObject({ status: "delivered" });

    // Past its expiresIn, the writer's sweep keeps it: it was delivered (through the follower).
    clock.advance(10_000);
    await writer.sweep();
    expect(writer.queued("d").map((q) => q.id)).toEqual([r!.id]);

    // A second poll marks nothing again.
    await follower.providerPoll({ names: ["d"] }, 0, { waitMs: 0 });
    await flush();
    expect(fStore.forwarded.filter((c) => c.op === "deliver")).toHaveLength(1);
  });

  it("a mark made while no node writes is sent again until a writer takes it; past the tries it is reported", async () => {
    const errors: string[] = [];
    const clock = new FakeClock();
    const wStore = new WriterStore();
    const writer = await Switchboard.open({ persistence: wStore, clock });
    let follower: Switchboard | undefined;
    const fStore = new FollowerStore(wStore, () => follower!);
    follower = await Switchboard.open({
      persistence: fStore,
      clock,
      onError: (_err, context) => errors.push(context),
    });
    open.push(writer, follower);
    await follower.set([{ name: "d", value: 0 }]);
    const [r] = await follower.request([{ name: "d", value: 1, expiresInMs: 5_000 }]);
    // A failover: the next three forwards find no writer.
    const forward = fStore.forward.bind(fStore);
    let refusals = 3;
    fStore.forward = async (call) => {
      if (refusals > 0) {
        refusals--;
        throw new SwitchboardError("NO_WRITER", "no node takes writes right now");
      }
      return forward(call);
    };
    await follower.providerPoll({ names: ["d"] }, 0, { waitMs: 0 });
    await flush();
    expect(writer.outcome(r!.id)).toMatchObject({ status: "pending" });
    for (let i = 0; i < 3; i++) {
      clock.advance(250);
      await flush();
    }
    expect(writer.outcome(r!.id)).toMatchObject({ status: "delivered" });
    expect(wStore.committedMutations().filter((m) => m.type === "deliver")).toHaveLength(1);
    expect(errors).toEqual([]);

    // A writer that never comes back: the follower stops after ~30 s and says what it lost.
    const [r2] = await follower.request([{ name: "d", value: 2, expiresInMs: 60_000 }]);
    fStore.forward = async () => {
      throw new SwitchboardError("NO_WRITER", "no node takes writes right now");
    };
    await follower.providerPoll({ names: ["d"] }, 0, { waitMs: 0 });
    for (let i = 0; i < 130; i++) {
      clock.advance(250);
      await flush();
    }
    expect(errors).toEqual([expect.stringContaining("delivery mark of 1 request(s) lost after 120 tries")]);
    expect(writer.outcome(r2!.id)).toMatchObject({ status: "pending" });
  });

  it("a mark that reaches the writer after the request expired writes nothing", async () => {
    const { writer, wStore, clock } = await pair();
    await writer.set([{ name: "e", value: 0 }]);
    const [r] = await writer.request([{ name: "e", value: 1, expiresInMs: 1_000 }]);
    clock.advance(2_000);
    await writer.sweep();
    expect(writer.queued("e")).toEqual([]);
    const before = wStore.committedMutations().length;
    expect(await wStore.run!({ op: "deliver", args: [[{ name: "e", ids: [r!.id] }]] })).toBe(0);
    expect(wStore.committedMutations()).toHaveLength(before);
    expect(writer.outcome(r!.id)).toMatchObject({ status: "expired" });
    const bad = await wStore.run!({ op: "deliver", args: [[{ name: 3 }]] }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "INVALID_BODY" });
  });
});

describe("a poll ahead of this node", () => {
  it("waits for the tail to reach the index instead of answering resync", async () => {
    const { follower } = await pair();
    const poll = follower.consumerPoll({ names: ["x"] }, 1, { waitMs: 0 });
    await flush();
    follower.applyReplicated([
      {
        type: "set",
        name: "x",
        revision: 1,
        register: {
          name: "x",
          value: 1,
          metadata: {},
          createRevision: 1,
          modRevision: 1,
          version: 1,
          createdAt: 0,
          updatedAt: 0,
          expiresAt: null,
        },
      },
    ]);
    const answer = await poll;
    expect(answer).toMatchObject({ index: 1, resync: false });
  });

  it("answers resync once the wait passed without the tail reaching it", async () => {
    const { follower, clock } = await pair();
    let settled = false;
    const poll = follower.consumerPoll({ names: ["x"] }, 5, { waitMs: 0 }).finally(() => {
      settled = true;
    });
    await flush();
    clock.advance(999);
    await flush();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await poll).toMatchObject({ index: 0, resync: true });
  });

  it("a provider's `after` above the node's request ids waits for them too", async () => {
    const { follower, writer } = await pair();
    // Written on the writer only; the follower learns of it when the test applies it.
    await writer.set([{ name: "p", value: 0 }]);
    const [r] = await writer.request([{ name: "p", value: 1 }]);
    const poll = follower.providerPoll({ names: ["p"] }, r!.id, { waitMs: 0 });
    await flush();
    follower.applyReplicated((writer.persistence as WriterStore).committedMutations());
    const answer = await poll;
    expect(answer.resync).toBe(false);
  });
});

describe("a snapshot reload after a gap", () => {
  it("replaces the state, wakes held polls with resync and keeps the counters of the snapshot", async () => {
    const { follower } = await pair();
    const held = follower.consumerPoll({ names: ["x"] }, 0, { waitMs: 60_000 });
    await flush();
    const x = {
      name: "x",
      value: "from snapshot",
      metadata: {},
      createRevision: 7,
      modRevision: 9,
      version: 2,
      createdAt: 0,
      updatedAt: 0,
      expiresAt: null,
    };
    follower.replaceReplicated({
      revision: 12,
      lastRequestId: 3,
      registers: [x],
      requests: [{ id: 3, name: "x", value: 1, requestedAt: 0 }],
    });
    expect(await held).toMatchObject({ index: 12, resync: true, registers: [{ name: "x", found: true, register: x }] });
    expect(follower.revision).toBe(12);
    expect(follower.lastRequestId).toBe(3);
    expect(follower.queued("x").map((r) => r.id)).toEqual([3]);
    expect(follower.outcome(3)).toMatchObject({ status: "pending" });
    // An older snapshot never goes back.
    follower.replaceReplicated({ revision: 5, lastRequestId: 0, registers: [], requests: [] });
    expect(follower.get("x")?.value).toBe("from snapshot");
  });
});

describe("a follower that becomes the writer", () => {
  /** A member whose role the test flips; it is fed the old writer's log as a tail would. */
  class MemberStore extends FakePersistence {
    leader = false;
    isWriter(): boolean {
      return this.leader;
    }
  }

  async function failover(ttlGraceMs?: number) {
    const clock = new FakeClock();
    const old = await Switchboard.open({ persistence: new FakePersistence(), clock });
    const store = new MemberStore();
    const member = await Switchboard.open({
      persistence: store,
      clock,
      ...(ttlGraceMs === undefined ? {} : { ttlGraceMs }),
    });
    open.push(member);
    await old.set([
      { name: "short", value: 1, ttlMs: 5_000 },
      { name: "long", value: 1, ttlMs: 60_000 },
      { name: "forever", value: 1 },
    ]);
    member.applyReplicated((old.persistence as FakePersistence).committedMutations());
    await old.close(); // the writer dies; nobody refreshes or expires anything meanwhile
    clock.advance(20_000); // the failover took longer than `short`'s TTL
    await member.sweep(); // the timer's sweep (as a follower: expires nothing)
    store.leader = true;
    return { clock, member, store };
  }

  it("grants the lease grace before its first sweep: a deadline passed during the failover expires one TTL later", async () => {
    const { clock, member } = await failover();
    const now = clock.now();
    expect(await member.sweep()).toBe(0);
    expect(member.get("short")?.expiresAt).toBe(now + 5_000);
    expect(member.get("long")?.expiresAt).toBe(now + 60_000);
    expect(member.get("forever")?.expiresAt).toBeNull();
    clock.advance(4_999);
    await member.sweep(); // the timer's
    await member.sweep();
    expect(member.get("short")).toBeDefined();
    clock.advance(1);
    await member.sweep();
    await member.sweep();
    expect(member.get("short")).toBeUndefined();
    expect(member.get("long")).toBeDefined();
  });

  it("grants at most --ttl-grace, and none with 0", async () => {
    const capped = await failover(1_000);
    const now = capped.clock.now();
    expect(await capped.member.sweep()).toBe(0);
    expect(capped.member.get("short")?.expiresAt).toBe(now + 1_000);
    const none = await failover(0);
    expect(await none.member.sweep()).toBe(1);
    expect(none.member.get("short")).toBeUndefined();
  });

  it("grants it again after losing and regaining the lease, not on every sweep", async () => {
    const { clock, member, store } = await failover();
    await member.sweep();
    const granted = store.commits.length;
    clock.advance(1_000);
    await member.sweep();
    await member.sweep();
    expect(store.commits.length).toBe(granted); // still the writer: no second grace
    store.leader = false;
    await member.sweep();
    clock.advance(10_000); // `short` passed its deadline while this node was not the writer
    await member.sweep();
    store.leader = true;
    expect(await member.sweep()).toBe(0);
    expect(member.get("short")?.expiresAt).toBe(clock.now() + 5_000);
  });
});
