// The mongo adapter against a MongoDB-wire-compatible server over TCP: group commits, registry mirror, reconcile, validation.

import { Collection, type CommandStartedEvent } from "mongodb";
import { describe, expect, it, vi } from "vitest";
import { isSwitchboardError } from "../../src/core/errors.js";
import type { Mutation, Snapshot } from "../../src/core/types.js";
import { registerToDoc as registerDoc } from "../../src/storage/mongo/documents.js";
import { createMongoPersistence } from "../../src/storage/mongo/index.js";
import { PAGE_SIZE } from "../../src/storage/mongo/reconcile.js";
import { BOUND_MS, reg, rejection, set, useMongoFixture, waitFor } from "./mongo-fixture.js";

const mongo = useMongoFixture();
const open = mongo.open;

describe("mongo persistence: group commits", () => {
  it("sends one bulkWrite per collection touched, plus one counter update", async () => {
    const p = open(undefined, true);
    await p.load();
    const writes: CommandStartedEvent[] = [];
    p.client.on("commandStarted", (e) => {
      if (["update", "delete", "insert"].includes(e.commandName)) writes.push(e);
    });
    const spy = vi.spyOn(Collection.prototype, "bulkWrite");

    const sets = Array.from({ length: 50 }, (_, i) => set(reg(`svc/${i}`, { i }, i + 1)));
    await p.commit([
      ...sets,
      set(reg("registries/demo", { registry_url: "https://demo" }, 51)),
      { type: "request", name: "svc/1", revision: 52, request: { id: 1, name: "svc/1", value: 9, requestedAt: 1 } },
      { type: "request", name: "svc/1", revision: 53, request: { id: 2, name: "svc/1", value: 8, requestedAt: 2 } },
    ]);

    const perCollection = spy.mock.contexts.map((c) => (c as Collection).collectionName).sort();
    expect(perCollection).toEqual(["change_requests", "registers", "registry_core_data"]);
    // 51 upserts of registers travel in one `update` command; counters in one more on `meta`.
    const target = (e: CommandStartedEvent): string => `${e.commandName}:${e.command[e.commandName] as string}`;
    expect(writes.map(target).sort()).toEqual([
      "update:change_requests",
      "update:meta",
      "update:registers",
      "update:registry_core_data",
    ]);
    const registersUpdate = writes.find((e) => target(e) === "update:registers")!;
    expect(registersUpdate.command.updates).toHaveLength(51);
    expect(registersUpdate.command.writeConcern).toMatchObject({ w: "majority" });
  });

  it("applies mutations of one group in order: set-then-delete ends deleted, delete-then-set ends set", async () => {
    const p = open();
    await p.commit([
      set(reg("gone", 1, 1)),
      { type: "delete", name: "gone", revision: 2 },
      set(reg("back", 1, 3)),
      { type: "delete", name: "back", revision: 4 },
      set(reg("back", 2, 5, { createRevision: 5 })),
      { type: "refresh", name: "back", expiresAt: 99_000 },
    ]);
    const { snapshot } = await p.load();
    expect(snapshot?.registers.map((r) => [r.name, r.value, r.expiresAt])).toEqual([["back", 2, 99_000]]);
    expect(snapshot?.revision).toBe(5);
  });

  it("acks drop requests up to and including upTo for that name only", async () => {
    const p = open();
    const req = (id: number, name: string): Mutation => ({
      type: "request",
      name,
      revision: id,
      request: { id, name, value: id, requestedAt: id, requester: "t" },
    });
    await p.commit([set(reg("a", 0, 1)), set(reg("b", 0, 2))]);
    await p.commit([req(3, "a"), req(4, "b"), req(5, "a"), req(6, "a")]);
    await p.commit([{ type: "ack", name: "a", revision: 7, upTo: 5, reason: "acknowledged" }]);
    const { snapshot } = await p.load();
    expect(snapshot?.requests.map((q) => [q.id, q.name])).toEqual([
      [4, "b"],
      [6, "a"],
    ]);
    expect(snapshot?.lastRequestId).toBe(6);
    expect(snapshot?.revision).toBe(7);
  });

  it("a commit retried with the same mutations leaves the same state (idempotent)", async () => {
    const p = open();
    const group: Mutation[] = [
      set(reg("x", { v: 1 }, 1)),
      { type: "request", name: "x", revision: 2, request: { id: 1, name: "x", value: 1, requestedAt: 1 } },
      set(reg("registries/x", { registry_url: "u" }, 3)),
    ];
    await p.commit(group);
    const first = await p.load();
    await p.commit(group);
    expect(await p.load()).toEqual(first);
    const db = p.client.db(p.databaseName);
    expect(await db.collection("registers").countDocuments({ name: "x" })).toBe(1);
    expect(await db.collection("change_requests").countDocuments({ id: 1 })).toBe(1);
    expect(await db.collection("registry_core_data").countDocuments({ registry_id: "x" })).toBe(1);
  });

  it("round-trips values whose keys Mongo cannot store natively", async () => {
    const p = open();
    const weird = reg("weird", { $set: { "a.b": [1, { "nul\u0000key": null }] } }, 1, { metadata: { "x.y": "z" } });
    await p.commit([set(weird)]);
    const { snapshot } = await p.load();
    expect(snapshot?.registers).toEqual([weird]);
  });
});

describe("mongo persistence: registry_core_data mirror", () => {
  it("mirrors registries/<id> values in the RegistryCoreData shape, keyed by registry_id, and removes them with the register", async () => {
    const p = open();
    const value = {
      registry_id: "demo-registry",
      registry_url: "https://demo.example.com",
      registry_acl_config_info: { visibility: "public" },
      registry_search_data: { registry_id: "demo-registry", registry_type: "tool", registry_search_tags: ["AI"] },
    };
    await p.commit([set(reg("registries/demo-registry", value, 1)), set(reg("services/web/1", { port: 80 }, 2))]);
    const mirror = p.client.db(p.databaseName).collection("registry_core_data");
    const docs = await mirror.find({}, { projection: { _id: 0 } }).toArray();
    expect(docs).toEqual([
      {
        registry_id: "demo-registry",
        registry_url: "https://demo.example.com",
        registry_api_index: null,
        registry_documentation_s3_url: null,
        registry_client_sdk_s3_url: null,
        registry_acl_config_info: { visibility: "public" },
        registry_asset_id: null,
        health_check_api: null,
        registry_search_data: {
          registry_id: "demo-registry",
          registry_type: "tool",
          registry_sub_type: null,
          registry_metadata: {},
          registry_search_tags: ["AI"],
          registry_search_description: null,
        },
      },
    ]);
    // Existing Mongo tooling queries it like the registry-of-registries collection.
    expect(await mirror.countDocuments({ "registry_search_data.registry_type": "tool" })).toBe(1);

    await p.commit([set(reg("registries/demo-registry", { ...value, registry_url: "https://v2" }, 3, { version: 2 }))]);
    expect(await mirror.findOne({ registry_id: "demo-registry" })).toMatchObject({ registry_url: "https://v2" });

    await p.commit([{ type: "expire", name: "registries/demo-registry", revision: 4 }]);
    expect(await mirror.countDocuments({})).toBe(0);
  });
});

describe("mongo persistence: compaction is a full reconcile", () => {
  it("makes the collections equal to the snapshot, and writes nothing when they already are", async () => {
    const p = open();
    await p.commit([
      set(reg("keep", 1, 1)),
      set(reg("drop", 1, 2)),
      set(reg("registries/old", {}, 3)),
      { type: "request", name: "keep", revision: 4, request: { id: 1, name: "keep", value: 1, requestedAt: 1 } },
    ]);
    const snapshot: Snapshot = {
      revision: 10,
      lastRequestId: 3,
      registers: [
        reg("keep", 2, 9, { version: 2 }),
        reg("new", 1, 10),
        reg("registries/new", { registry_url: "n" }, 8),
      ],
      requests: [{ id: 3, name: "keep", value: 3, requestedAt: 3 }],
    };
    await p.compact(snapshot);
    const loaded = await p.load();
    expect(loaded.tail).toEqual([]);
    expect(loaded.snapshot).toEqual({
      ...snapshot,
      // A snapshot written without a request history loads with an empty one.
      outcomes: [],
      registers: [...snapshot.registers].sort((a, b) => (a.name < b.name ? -1 : 1)),
    });
    const mirror = p.client.db(p.databaseName).collection("registry_core_data");
    expect((await mirror.find({}).toArray()).map((d) => d.registry_id)).toEqual(["new"]);

    const spy = vi.spyOn(Collection.prototype, "bulkWrite");
    await p.compact(snapshot);
    expect(spy).not.toHaveBeenCalled();
  });

  it("asks for a compaction again once reconcileIntervalMs has passed", async () => {
    const p = mongo.track(
      createMongoPersistence({ url: mongo.server.url, database: "sb_interval", reconcileIntervalMs: 50 }),
    );
    expect(p.wantsCompaction?.()).toBe(false);
    await waitFor(() => p.wantsCompaction?.() === true, 2_000);
    await p.compact({ revision: 0, lastRequestId: 0, registers: [], requests: [] });
    expect(p.wantsCompaction?.()).toBe(false);
  });
});

describe("mongo persistence: the reconcile streams and counts its failures", () => {
  it("reads a large collection page by page, writing as it goes, and repairs every kind of drift", async () => {
    // The wire-compatible test server is slow with thousands of documents: a generous bound here.
    const p = mongo.track(
      createMongoPersistence({
        url: mongo.server.url,
        database: "sb_reconcile_stream",
        writeTimeoutMs: 20_000,
        clientOptions: { monitorCommands: true },
      }),
    );
    await p.load();
    const N = 2_600;
    const all = Array.from({ length: N }, (_, i) => reg(`r/${String(i).padStart(5, "0")}`, { i }, i + 1));
    const coll = p.client.db(p.databaseName).collection("registers");
    await coll.insertMany(all.map(registerDoc));
    // Drift: values edited by hand (more than a batch of them), strays, a duplicate of a kept name, missing ones.
    await coll.updateMany({ name: { $lt: "r/01200" } }, { $set: { value: "edited" } });
    await coll.updateMany({ name: { $in: ["r/01500", "r/02590"] } }, { $set: { value: "edited" } });
    await coll.insertMany([
      { name: "stray/1", value: 1 },
      { name: "stray/2", value: 2 },
      { ...registerDoc(all[5]!), value: "dup" },
    ]);
    await coll.deleteMany({ name: { $in: ["r/00020", "r/02000"] } });

    const commands: { name: string; docs: number }[] = [];
    p.client.on("commandStarted", (e) => {
      if (e.command[e.commandName] !== "registers") return;
      if (e.commandName === "find") commands.push({ name: "find", docs: e.command.limit as number });
      if (["update", "delete"].includes(e.commandName)) {
        const docs = (e.command.updates ?? e.command.deletes) as unknown[];
        commands.push({ name: "write", docs: docs.length });
      }
    });
    const snapshot: Snapshot = { revision: N, lastRequestId: 0, registers: all, requests: [] };
    await p.compact(snapshot);

    // Every read asks for one page at most; a write went out before the last page was read.
    const finds = commands.filter((c) => c.name === "find");
    expect(finds.length).toBeGreaterThanOrEqual(3);
    for (const f of finds) expect(f.docs).toBeLessThanOrEqual(PAGE_SIZE);
    const lastFind = commands.map((c) => c.name).lastIndexOf("find");
    expect(commands.slice(0, lastFind).some((c) => c.name === "write")).toBe(true);
    for (const w of commands.filter((c) => c.name === "write")) expect(w.docs).toBeLessThanOrEqual(2 * PAGE_SIZE);

    const loaded = await p.load();
    expect(loaded.snapshot?.registers).toEqual(all);
    expect(await coll.countDocuments({})).toBe(N);
    // Nothing left to do: a second pass reads and writes nothing.
    commands.length = 0;
    await p.compact(snapshot);
    expect(commands.filter((c) => c.name === "write")).toEqual([]);
  });

  it("counts every failed reconcile and logs once per change, and once when it recovers", async () => {
    const errors: [string, string][] = [];
    const lines: { level: string; msg: string; code?: string }[] = [];
    const logger = {
      warn: (o: object, msg?: string) => lines.push({ level: "warn", msg: msg ?? "", ...o }),
      info: (o: object, msg?: string) => lines.push({ level: "info", msg: msg ?? "", ...o }),
    };
    const p = mongo.track(
      createMongoPersistence({
        url: mongo.server.url,
        database: "sb_reconcile_errors",
        writeTimeoutMs: BOUND_MS,
        logger,
        onError: (op, code) => errors.push([op, code]),
      }),
    );
    await p.commit([set(reg("a", 1, 1))]);
    const snapshot: Snapshot = { revision: 1, lastRequestId: 0, registers: [reg("a", 1, 1)], requests: [] };
    await mongo.server.stop();
    for (let i = 0; i < 2; i++) {
      const err = await rejection(p.compact(snapshot));
      expect(isSwitchboardError(err) && err.code).toBe("STORAGE_UNAVAILABLE");
    }
    expect(errors).toEqual([
      ["reconcile", "STORAGE_UNAVAILABLE"],
      ["reconcile", "STORAGE_UNAVAILABLE"],
    ]);
    const failed = lines.filter((l) => l.msg.startsWith("mongo reconcile failed"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: "warn", code: "STORAGE_UNAVAILABLE", collection: "registers" });

    await mongo.server.restart();
    await p.compact(snapshot);
    expect(lines.filter((l) => l.msg === "mongo reconcile succeeded again")).toHaveLength(1);
    expect(errors).toHaveLength(2);
  });
});

describe("mongo persistence: load validation", () => {
  it("rejects invalid stored documents with STORAGE_CORRUPT and details", async () => {
    const p = open();
    await p.commit([set(reg("ok", 1, 1))]);
    await p.client.db(p.databaseName).collection("registers").insertOne({ name: "bad", value: 1, version: "x" });
    const err = await rejection(p.load());
    expect(isSwitchboardError(err) && err.code).toBe("STORAGE_CORRUPT");
    expect(isSwitchboardError(err) && err.details).toMatchObject({ collection: "registers" });
  });

  it("an empty database loads as no snapshot", async () => {
    expect(await open().load()).toEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
  });
});
