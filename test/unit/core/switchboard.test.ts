// Switchboard writes and reads: revisions and versions, all-or-nothing batches, durability before visibility, group commit, limits.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { internals } from "../../../src/core/switchboard.js";
import type { SetInput } from "../../../src/core/types.js";
import { flush, track } from "../../helpers/flush.js";
import { advance, type Board, openBoard } from "./fixture.js";

let b: Board;
beforeEach(async () => {
  b = await openBoard({ limits: { maxValueBytes: 10, maxMetadataBytes: 10, maxBatch: 3, maxTtlMs: 60_000 } });
});
afterEach(async () => {
  await b.sb.close();
});

const summary = () => b.events.map((e) => [e.type, e.name, e.revision]);

describe("revisions and versions", () => {
  it("adds one revision per change and one version per register change", async () => {
    const { sb, clock } = b;
    const r0 = sb.revision;
    const created = clock.now();
    const [a1] = await sb.set([{ name: "a", value: 1 }]);
    expect(sb.revision).toBe(r0 + 1);
    expect(a1).toEqual({
      changed: true,
      register: {
        name: "a",
        value: 1,
        metadata: {},
        createRevision: r0 + 1,
        modRevision: r0 + 1,
        version: 1,
        createdAt: created,
        updatedAt: created,
        expiresAt: null,
      },
    });
    await sb.set([{ name: "b", value: 1 }]);
    expect(sb.revision).toBe(r0 + 2);
    await advance(clock, 3000, 1000);
    const [a2] = await sb.set([{ name: "a", value: 2 }]);
    expect(a2!.register).toMatchObject({
      version: 2,
      createRevision: r0 + 1,
      modRevision: r0 + 3,
      createdAt: created,
      updatedAt: clock.now(),
    });
    expect(clock.now()).toBeGreaterThan(created);
    expect(sb.get("a")).toEqual(a2!.register);
    const batch = await sb.set([
      { name: "c", value: 1 },
      { name: "d", value: 1 },
    ]);
    expect(batch.map((r) => r.register.modRevision)).toEqual([r0 + 4, r0 + 5]);
    expect(summary()).toEqual([
      ["set", "a", r0 + 1],
      ["set", "b", r0 + 2],
      ["set", "a", r0 + 3],
      ["set", "c", r0 + 4],
      ["set", "d", r0 + 5],
    ]);
    expect(sb.stats()).toMatchObject({ registers: 4, revision: r0 + 5, events: 5 });
  });

  it("makes no revision, no event and no commit for a set that changes nothing", async () => {
    await b.sb.close();
    b = await openBoard(); // default limits: this value is larger than the suite's tiny ones
    const { sb, store } = b;
    await sb.set([{ name: "a", value: { x: 1, y: [1, 2] }, metadata: { k: "v" } }]);
    const rev = sb.revision;
    const commits = store.commits.length;
    const events = b.events.length;
    const [same] = await sb.set([{ name: "a", value: { y: [1, 2], x: 1 } }]); // key order differs, metadata omitted
    const [sameMeta] = await sb.set([{ name: "a", value: { x: 1, y: [1, 2] }, metadata: { k: "v" } }]);
    expect(same!.changed).toBe(false);
    expect(sameMeta!.changed).toBe(false);
    expect(same!.register).toEqual(sb.get("a"));
    expect(sb.revision).toBe(rev);
    expect(b.events.length).toBe(events);
    expect(store.commits.length).toBe(commits);
    expect(sb.get("a")!.version).toBe(1);
  });

  it("keeps metadata when it is omitted and replaces it (not merges) when given", async () => {
    const { sb } = b;
    await sb.set([{ name: "a", value: 1, metadata: { o: "x" } }]);
    const [kept] = await sb.set([{ name: "a", value: 2 }]);
    expect(kept!.register.metadata).toEqual({ o: "x" });
    const [replaced] = await sb.set([{ name: "a", value: 2, metadata: { n: 1 } }]);
    expect(replaced!.changed).toBe(true);
    expect(replaced!.register.metadata).toEqual({ n: 1 });
    const [cleared] = await sb.set([{ name: "a", value: 2, metadata: {} }]);
    expect(cleared!.changed).toBe(true);
    expect(cleared!.register.metadata).toEqual({});
    expect(cleared!.register.version).toBe(4);
  });
});

describe("batches are all-or-nothing", () => {
  const invalid: [string, SetInput, string][] = [
    ["a bad name", { name: "bad name", value: 1 }, "INVALID_NAME"],
    ["a too large value", { name: "z", value: "x".repeat(20) }, "VALUE_TOO_LARGE"],
    ["too large metadata", { name: "z", value: 1, metadata: { k: "x".repeat(20) } }, "METADATA_TOO_LARGE"],
    ["a negative ttl", { name: "z", value: 1, ttlMs: -1 }, "TTL_OUT_OF_RANGE"],
    ["an infinite number", { name: "z", value: { n: Number.POSITIVE_INFINITY } }, "VALUE_NOT_JSON"],
    [
      "an infinite number in metadata",
      { name: "z", value: 1, metadata: { n: [Number.NEGATIVE_INFINITY] } },
      "VALUE_NOT_JSON",
    ],
    [
      "a too deeply nested value",
      { name: "z", value: JSON.parse(`${"[".repeat(100)}${"]".repeat(100)}`) },
      "NESTING_TOO_DEEP",
    ],
    [
      "too deeply nested metadata",
      { name: "z", value: 1, metadata: { k: JSON.parse(`${"[".repeat(64)}${"]".repeat(64)}`) } },
      "NESTING_TOO_DEEP",
    ],
    ["a duplicate name", { name: "a", value: 3 }, "DUPLICATE_NAME"],
  ];

  it.each(invalid)("applies nothing when one entry has %s", async (_what, bad, code) => {
    const { sb, store } = b;
    await sb.set([{ name: "a", value: 1 }]);
    const rev = sb.revision;
    const commits = store.commits.length;
    await expect(sb.set([{ name: "a", value: 2 }, { name: "n", value: 1 }, bad])).rejects.toMatchObject({ code });
    expect(sb.get("a")!.value).toBe(1);
    expect(sb.get("n")).toBeUndefined();
    expect(sb.revision).toBe(rev);
    expect(store.commits.length).toBe(commits);
    expect(b.events).toHaveLength(1);
  });

  it("applies nothing when the commit fails, and answers STORAGE_UNAVAILABLE", async () => {
    const { sb, store } = b;
    await sb.set([{ name: "a", value: 1 }]);
    const rev = sb.revision;
    const before = sb.list("", 100);
    store.failNext(new Error("ENOSPC"));
    const err = await sb
      .set([
        { name: "a", value: 2 },
        { name: "n", value: 1 },
      ])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORAGE_UNAVAILABLE", kind: "unavailable" });
    expect(sb.revision).toBe(rev);
    expect(sb.list("", 100)).toEqual(before);
    expect(b.events).toHaveLength(1);
    expect(store.log).toHaveLength(1);
    // The failure is not sticky: the next write goes through and moves the revision forward.
    const [ok] = await sb.set([{ name: "n", value: 1 }]);
    expect(ok!.register.modRevision).toBeGreaterThan(rev);
    expect(sb.revision).toBe(ok!.register.modRevision);
    expect(sb.stats().registers).toBe(2);
  });

  it("leaves the register and its requests in place when a delete cannot be committed", async () => {
    const { sb, store } = b;
    await sb.set([{ name: "a", value: 1 }]);
    await sb.request([{ name: "a", value: 2 }]);
    store.failNext();
    await expect(sb.delete(["a"])).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    expect(sb.get("a")).toBeDefined();
    expect(sb.pendingRequests({ names: ["a"] })).toHaveLength(1);
  });
});

describe("durability", () => {
  it("shows nothing before the commit is durable", async () => {
    const { sb, store } = b;
    await sb.set([{ name: "a", value: 1 }]);
    const rev = sb.revision;
    const waiter = track(internals.wait(sb, "consumer", { names: ["a"] }, { timeoutMs: 60_000 }));
    store.hold();
    const write = track(sb.set([{ name: "a", value: 2 }]));
    await flush();
    expect(store.held).toBe(1);
    expect(sb.get("a")!.value).toBe(1);
    expect(sb.revision).toBe(rev);
    expect(sb.eventsSince(rev)).toEqual([]);
    expect(b.events).toHaveLength(1);
    expect(waiter.settled).toBe(false);
    expect(write.settled).toBe(false);
    store.release();
    await flush();
    expect(write.value![0]!.register.value).toBe(2);
    expect(sb.get("a")!.value).toBe(2);
    expect(sb.revision).toBe(rev + 1);
    expect(waiter.value).toMatchObject({ reason: "change", event: { type: "set", name: "a", revision: rev + 1 } });
  });

  it("applies writes to one register in order, one commit each", async () => {
    const { sb, store } = b;
    store.hold();
    const writes = [1, 2, 3].map((v) => track(sb.set([{ name: "a", value: v }])));
    await flush();
    // The later writes wait for the register's guard: only the first reached storage.
    expect(store.commits).toHaveLength(1);
    store.release();
    await Promise.all(writes.map((w) => w.promise));
    const regs = writes.map((w) => w.value![0]!.register);
    expect(regs.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(regs.map((r) => r.version)).toEqual([1, 2, 3]);
    expect(regs[1]!.modRevision).toBe(regs[0]!.modRevision + 1);
    expect(regs[2]!.modRevision).toBe(regs[1]!.modRevision + 1);
    expect(store.commits).toHaveLength(3);
    expect(sb.get("a")!.value).toBe(3);
  });

  it("group-commits concurrent writes to different registers", async () => {
    const { sb, store } = b;
    store.hold();
    const first = track(sb.set([{ name: "x0", value: 0 }]));
    await flush();
    const group = ["x1", "x2", "x3", "x4", "x5"].map((name) => track(sb.set([{ name, value: 1 }])));
    await flush();
    expect(store.commits).toHaveLength(1);
    store.release();
    await Promise.all([first, ...group].map((t) => t.promise));
    expect(store.commits).toHaveLength(2);
    expect(store.commits[1]!.map((m) => m.name).sort()).toEqual(["x1", "x2", "x3", "x4", "x5"]);
    expect(sb.stats().commits).toBe(2);
    expect(sb.stats().registers).toBe(6);
  });
});

describe("limits and input rules", () => {
  it("bounds values by their UTF-8 serialisation, exactly at the limit", async () => {
    const { sb } = b;
    await expect(sb.set([{ name: "a", value: "12345678" }])).resolves.toHaveLength(1); // 10 bytes with quotes
    await expect(sb.set([{ name: "a", value: "ééééé" }])).rejects.toMatchObject({
      code: "VALUE_TOO_LARGE",
      details: { name: "a", size: 12, limit: 10 },
    });
    await expect(sb.request([{ name: "a", value: "123456789" }])).rejects.toMatchObject({ code: "VALUE_TOO_LARGE" });
  });

  it("bounds metadata", async () => {
    const { sb } = b;
    await expect(sb.set([{ name: "a", value: 1, metadata: { k: "xx" } }])).resolves.toHaveLength(1); // {"k":"xx"}
    await expect(sb.set([{ name: "a", value: 1, metadata: { k: "xxx" } }])).rejects.toMatchObject({
      code: "METADATA_TOO_LARGE",
    });
  });

  it("bounds batches of sets, deletes and requests", async () => {
    const { sb } = b;
    const four = ["a", "b", "c", "d"];
    await expect(sb.set(four.map((name) => ({ name, value: 1 })))).rejects.toMatchObject({ code: "BATCH_TOO_LARGE" });
    await expect(sb.delete(four)).rejects.toMatchObject({ code: "BATCH_TOO_LARGE" });
    await expect(sb.request(four.map((name) => ({ name, value: 1 })))).rejects.toMatchObject({
      code: "BATCH_TOO_LARGE",
    });
    await expect(sb.set(four.slice(1).map((name) => ({ name, value: 1 })))).resolves.toHaveLength(3);
  });

  it("bounds TTLs", async () => {
    const { sb } = b;
    for (const ttlMs of [-1, 60_001, Number.NaN]) {
      await expect(sb.set([{ name: "a", value: 1, ttlMs }])).rejects.toMatchObject({ code: "TTL_OUT_OF_RANGE" });
    }
    const [r] = await sb.set([{ name: "a", value: 1, ttlMs: 60_000 }]);
    expect(r!.register.expiresAt).toBe(b.clock.now() + 60_000);
  });

  it("checks names on every write", async () => {
    const { sb } = b;
    for (const name of ["", "x".repeat(257), "a b", "ü"]) {
      await expect(sb.set([{ name, value: 1 }])).rejects.toMatchObject({ code: "INVALID_NAME" });
      await expect(sb.delete([name])).rejects.toMatchObject({ code: "INVALID_NAME" });
      await expect(sb.request([{ name, value: 1 }])).rejects.toMatchObject({ code: "INVALID_NAME" });
    }
    expect(sb.revision).toBe(0);
  });
});

describe("delete", () => {
  it("deletes, drops pending requests with one ack event each, and ignores unknown names", async () => {
    const { sb } = b;
    await sb.set([
      { name: "a", value: 1 },
      { name: "keep", value: 1 },
    ]);
    const reqs = await sb.request([
      { name: "a", value: 2 },
      { name: "a", value: 3 },
    ]);
    const r0 = sb.revision;
    expect(await sb.delete(["a", "nope", "a"])).toEqual(["a"]);
    expect(sb.get("a")).toBeUndefined();
    expect(sb.get("keep")).toBeDefined();
    expect(sb.stats().queuedRequests).toBe(0);
    expect(sb.eventsSince(r0)).toEqual([
      { type: "ack", name: "a", revision: r0 + 1, upTo: reqs[0]!.id, ids: [reqs[0]!.id], reason: "deleted" },
      { type: "ack", name: "a", revision: r0 + 2, upTo: reqs[1]!.id, ids: [reqs[1]!.id], reason: "deleted" },
      { type: "delete", name: "a", revision: r0 + 3 },
    ]);
    const commits = b.store.commits.length;
    expect(await sb.delete(["nope"])).toEqual([]);
    expect(sb.revision).toBe(r0 + 3);
    expect(b.store.commits.length).toBe(commits);
  });
});

describe("change requests", () => {
  it("answers REGISTER_NOT_FOUND and queues nothing from that batch", async () => {
    const { sb } = b;
    await sb.set([{ name: "a", value: 1 }]);
    const rev = sb.revision;
    await expect(
      sb.request([
        { name: "a", value: 2 },
        { name: "ghost", value: 2 },
      ]),
    ).rejects.toMatchObject({ code: "REGISTER_NOT_FOUND", kind: "not_found", details: { name: "ghost" } });
    expect(sb.pendingRequests({ names: ["a"] })).toEqual([]);
    expect(sb.revision).toBe(rev);
  });

  it("answers QUEUE_FULL at the limit, with retryAfter, until the provider acknowledges", async () => {
    const board = await openBoard({ limits: { maxQueue: 2 } });
    const { sb } = board;
    await sb.set([{ name: "a", value: 0 }]);
    await expect(
      sb.request([
        { name: "a", value: 1 },
        { name: "a", value: 2 },
        { name: "a", value: 3 },
      ]),
    ).rejects.toMatchObject({ code: "QUEUE_FULL" });
    expect(sb.stats().queuedRequests).toBe(0);
    const [first] = await sb.request([{ name: "a", value: 1 }]);
    await sb.request([{ name: "a", value: 2 }]);
    const err = await sb.request([{ name: "a", value: 3 }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "QUEUE_FULL", kind: "exhausted", details: { limit: 2 } });
    expect((err as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
    expect(await sb.acknowledge({ names: ["a"] }, first!.id)).toBe(1);
    await expect(sb.request([{ name: "a", value: 3 }])).resolves.toHaveLength(1);
    await sb.close();
  });

  it("issues global, increasing ids and keeps each register's queue FIFO", async () => {
    const { sb, clock } = b;
    await sb.set([
      { name: "a", value: 0 },
      { name: "b", value: 0 },
    ]);
    const issued = [];
    for (const [name, value] of [
      ["a", 1],
      ["b", 1],
      ["a", 2],
      ["b", 2],
      ["a", 3],
    ] as const) {
      issued.push(...(await sb.request([{ name, value, requester: `${name}-client` }])));
    }
    const ids = issued.map((r) => r.id);
    for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sb.pendingRequests({ names: ["a"] }).map((r) => r.value)).toEqual([1, 2, 3]);
    expect(sb.pendingRequests({ names: ["b"] }).map((r) => r.value)).toEqual([1, 2]);
    expect(sb.pendingRequests({ prefixes: [""] }).map((r) => r.id)).toEqual(ids);
    expect(issued[0]).toEqual({
      id: ids[0],
      name: "a",
      value: 1,
      requestedAt: clock.now(),
      requester: "a-client",
      // The default request TTL (5 min): undelivered, it leaves the queue then.
      expiresAt: clock.now() + 300_000,
    });
    const batch = await sb.request([
      { name: "b", value: 3 },
      { name: "a", value: 4 },
    ]);
    expect(batch.map((r) => r.id)).toEqual([ids.at(-1)! + 1, ids.at(-1)! + 2]);
    expect(b.events.filter((e) => e.type === "request")).toHaveLength(7);
  });
});

describe("reads", () => {
  it("pages through a prefix with a cursor", async () => {
    const { sb } = b;
    const names = ["svc/e", "svc/a", "svc/c", "svc/b", "svc/d", "svd", "sv", "other"];
    for (let i = 0; i < names.length; i += 3) {
      await sb.set(names.slice(i, i + 3).map((name) => ({ name, value: name })));
    }
    const expected = names.filter((n) => n.startsWith("svc/")).sort();
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const page = sb.list("svc/", 2, cursor);
      pages.push(page.registers.length);
      seen.push(...page.registers.map((r) => r.name));
      cursor = page.next ?? undefined;
    } while (cursor !== undefined && pages.length < 10);
    expect(seen).toEqual(expected);
    expect(pages).toEqual([2, 2, 1]);
    expect(sb.list("svc/", expected.length).next).toBeNull();
    expect(sb.list("", 100).registers.map((r) => r.name)).toEqual([...names].sort());
    // A cursor naming a register deleted meanwhile still resumes after it.
    await sb.delete(["svc/b"]);
    expect(sb.list("svc/", 2, "svc/b").registers.map((r) => r.name)).toEqual(["svc/c", "svc/d"]);
    expect(() => sb.list("bad prefix", 1)).toThrow(expect.objectContaining({ code: "INVALID_PREFIX" }));
  });

  it("reads a selection: named ones found or not, and every one under a prefix once", async () => {
    const { sb } = b;
    await sb.set([
      { name: "p/a", value: 1 },
      { name: "p/b", value: 2 },
      { name: "q", value: 3 },
    ]);
    const views = sb.read({ names: ["p/a", "missing"], prefixes: ["p/"] });
    expect(views.map((v) => [v.name, v.found])).toEqual([
      ["p/a", true],
      ["missing", false],
      ["p/b", true],
    ]);
  });

  it("tells subscribers every event in revision order", async () => {
    const { sb } = b;
    const r0 = sb.revision;
    const seen: number[] = [];
    const unsubscribe = sb.subscribe((e) => seen.push(e.revision));
    sb.subscribe(() => {
      throw new Error("listener bug");
    });
    await sb.set([{ name: "a", value: 0 }]);
    await Promise.all([
      sb.set([{ name: "b", value: 1 }]),
      sb.set([{ name: "a", value: 1 }]),
      sb.request([{ name: "a", value: 2 }]),
      sb.set([{ name: "c", value: 1 }]),
      sb.delete(["b"]),
    ]);
    const expected = Array.from({ length: sb.revision - r0 }, (_, i) => r0 + i + 1);
    expect(seen).toEqual(expected);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(b.events.map((e) => e.revision)).toEqual(expected);
    expect(sb.eventsSince(r0)!.map((e) => e.revision)).toEqual(expected);
    // A throwing listener is reported and does not stop the others.
    expect(b.errors).toHaveLength(seen.length);
    expect(b.errors[0]!.context).toBe("event listener");
    unsubscribe();
    await sb.set([{ name: "z", value: 1 }]);
    expect(seen).toEqual(expected);
    expect(b.events.at(-1)!.name).toBe("z");
  });
});
