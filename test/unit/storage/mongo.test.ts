// Unit tests of the mongo adapter's pure parts: commit planning, document encoding and validation, the registry mirror.

import { describe, expect, it } from "vitest";
import { SwitchboardError } from "../../../src/core/errors.js";
import type { Json } from "../../../src/core/types.js";
import { registryIdOf, registryMirror } from "../../../src/services/registry/index.js";
import {
  docToRegister,
  docToRequest,
  isStorableJson,
  registerToDoc,
  requestToDoc,
} from "../../../src/storage/mongo/documents.js";
import { mirrorDocument } from "../../../src/storage/mongo/mirror.js";
import { databaseFromUrl } from "../../../src/storage/mongo/mongo-persistence.js";
import { planCommit } from "../../../src/storage/mongo/plan.js";

const toRegistryCoreData = (id: string, value: Parameters<typeof registryMirror.documentOf>[1]) =>
  mirrorDocument(registryMirror, id, value);

import { reg, set } from "../../helpers/registers.js";

describe("planCommit", () => {
  it("groups a commit into one ordered operation list per collection, in mutation order", () => {
    const plan = planCommit(
      [
        set(reg("a", 1, 1)),
        { type: "request", name: "a", revision: 2, request: { id: 7, name: "a", value: 2, requestedAt: 5 } },
        set(reg("registries/demo", { registry_url: "https://x" }, 3)),
        { type: "refresh", name: "a", expiresAt: 9_000 },
        { type: "delete", name: "a", revision: 4 },
        { type: "ack", name: "a", revision: 5, upTo: 7, reason: "deleted" },
      ],
      [registryMirror],
    );
    expect([...plan.writes.keys()].sort()).toEqual(["change_requests", "registers", "registry_core_data"]);
    const registers = plan.writes.get("registers")!;
    expect(registers.map((op) => Object.keys(op)[0])).toEqual(["replaceOne", "replaceOne", "updateOne", "deleteMany"]);
    expect(registers[0]).toMatchObject({ replaceOne: { filter: { name: "a" }, upsert: true } });
    expect(registers[2]).toEqual({ updateOne: { filter: { name: "a" }, update: { $set: { expiresAt: 9_000 } } } });
    expect(registers[3]).toEqual({ deleteMany: { filter: { name: "a" } } });
    expect(plan.writes.get("change_requests")).toEqual([
      {
        replaceOne: {
          filter: { id: 7 },
          replacement: { id: 7, name: "a", value: 2, requestedAt: 5 },
          upsert: true,
        },
      },
      { deleteMany: { filter: { name: "a", id: { $lte: 7 } } } },
    ]);
    expect(plan.writes.get("registry_core_data")).toHaveLength(1);
    expect(plan.counters).toEqual({ revision: 5, lastRequestId: 7 });
  });

  it("an expiry ack deletes exactly its ids, and a request keeps its expiresAt", () => {
    const plan = planCommit(
      [
        {
          type: "request",
          name: "a",
          revision: 2,
          request: { id: 8, name: "a", value: 1, requestedAt: 5, expiresAt: 2005 },
        },
        { type: "ack", name: "a", revision: 3, upTo: 8, ids: [6, 8], reason: "request_expired" },
      ],
      [],
    );
    const ops = plan.writes.get("change_requests")!;
    expect(ops[0]).toMatchObject({ replaceOne: { replacement: { id: 8, expiresAt: 2005 } } });
    expect(ops[1]).toEqual({ deleteMany: { filter: { name: "a", id: { $in: [6, 8] } } } });
    const doc = requestToDoc({ id: 8, name: "a", value: 1, requestedAt: 5, expiresAt: 2005 });
    expect(docToRequest(doc)).toEqual({ id: 8, name: "a", value: 1, requestedAt: 5, expiresAt: 2005 });
  });

  it("a group of refreshes only touches expiresAt and no counter", () => {
    const plan = planCommit([{ type: "refresh", name: "a", expiresAt: null }], [registryMirror]);
    expect(plan.counters).toBeNull();
    expect([...plan.writes.keys()]).toEqual(["registers"]);
  });

  it("removes the registry mirror with the register, on delete and on expire", () => {
    const plan = planCommit(
      [
        { type: "expire", name: "registries/r1", revision: 1 },
        { type: "delete", name: "registries/r2", revision: 2 },
      ],
      [registryMirror],
    );
    expect(plan.writes.get("registry_core_data")).toEqual([
      { deleteMany: { filter: { registry_id: "r1" } } },
      { deleteMany: { filter: { registry_id: "r2" } } },
    ]);
  });

  it("an empty group plans nothing", () => {
    const plan = planCommit([], [registryMirror]);
    expect(plan.writes.size).toBe(0);
    expect(plan.counters).toBeNull();
  });
});

describe("documents", () => {
  it("stores plain JSON natively and round-trips it", () => {
    const r = reg("a/b", { n: 1.5, list: [1, "x", null, { deep: true }] }, 3, {
      metadata: { owner: "me" },
      expiresAt: 12_345,
      version: 4,
    });
    const doc = registerToDoc(r);
    expect(doc.value).toEqual(r.value);
    expect(doc).not.toHaveProperty("valueJson");
    expect(docToRegister({ _id: "oid", ...doc })).toEqual(r);
  });

  it("falls back to exact JSON text for keys Mongo cannot store ($-prefixed, dotted, NUL)", () => {
    for (const value of [{ $set: 1 }, { "a.b": 2 }, { nested: [{ "x\u0000y": 3 }] }] as Json[]) {
      expect(isStorableJson(value)).toBe(false);
      const r = reg("weird", value, 1, { metadata: { "k8s.io/name": "web" } });
      const doc = registerToDoc(r);
      expect(doc.value).toBeNull();
      expect(typeof doc.valueJson).toBe("string");
      expect(doc.metadata).toEqual({});
      expect(docToRegister(doc)).toEqual(r);
    }
    expect(isStorableJson({ a: ["$not-a-key", "a.b"] })).toBe(true);
  });

  it("round-trips change requests, with and without requester", () => {
    const q1 = { id: 1, name: "a", value: { x: 1 }, requestedAt: 10 };
    const q2 = { ...q1, id: 2, requester: "app-1" };
    expect(docToRequest(requestToDoc(q1))).toEqual(q1);
    expect(docToRequest(requestToDoc(q2))).toEqual(q2);
  });

  it("rejects an invalid document with STORAGE_CORRUPT and details", () => {
    const bad = { ...registerToDoc(reg("a", 1, 1)), version: "two" };
    let caught: unknown;
    try {
      docToRegister({ _id: "x1", ...bad });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SwitchboardError);
    expect((caught as SwitchboardError).code).toBe("STORAGE_CORRUPT");
    expect((caught as SwitchboardError).details).toMatchObject({ collection: "registers", _id: "x1" });
    expect(() => docToRequest({ id: -1, name: "a", value: 1, requestedAt: 1 })).toThrow(SwitchboardError);
    expect(() => docToRegister({ ...registerToDoc(reg("a", 1, 1)), metadataJson: "[1]" })).toThrow(/not an object/);
  });
});

describe("registry_core_data mirror", () => {
  it("maps only registries/<id> names", () => {
    expect(registryIdOf("registries/demo-registry")).toBe("demo-registry");
    expect(registryIdOf("registries/")).toBeNull();
    expect(registryIdOf("services/web/1")).toBeNull();
  });

  it("writes the RegistryCoreData to_dict() shape: every field, defaults for absent ones, extras kept", () => {
    const doc = toRegistryCoreData("demo-registry", {
      registry_id: "demo-registry",
      registry_url: "https://demo.example.com",
      registry_api_index: "/v1",
      registry_documentation_s3_url: "s3://docs/demo.zip",
      health_check_api: "https://demo.example.com/health",
      registry_acl_config_info: { visibility: "public" },
      registry_search_data: {
        registry_id: "demo-registry",
        registry_type: "tool",
        registry_search_tags: ["AI", "demo"],
        registry_search_description: "Demo registry for testing",
      },
      owner_team: "platform",
    });
    expect(doc).toEqual({
      registry_id: "demo-registry",
      registry_url: "https://demo.example.com",
      registry_api_index: "/v1",
      registry_documentation_s3_url: "s3://docs/demo.zip",
      registry_client_sdk_s3_url: null,
      registry_acl_config_info: { visibility: "public" },
      registry_asset_id: null,
      health_check_api: "https://demo.example.com/health",
      registry_search_data: {
        registry_id: "demo-registry",
        registry_type: "tool",
        registry_sub_type: null,
        registry_metadata: {},
        registry_search_tags: ["AI", "demo"],
        registry_search_description: "Demo registry for testing",
      },
      owner_team: "platform",
    });
    expect(Object.keys(doc).slice(0, 9)).toEqual([
      "registry_id",
      "registry_url",
      "registry_api_index",
      "registry_documentation_s3_url",
      "registry_client_sdk_s3_url",
      "registry_acl_config_info",
      "registry_asset_id",
      "health_check_api",
      "registry_search_data",
    ]);
  });

  it("takes registry_id from the register name and makes unstorable keys storable", () => {
    const doc = toRegistryCoreData("r1", {
      registry_id: "something-else",
      registry_search_data: { registry_metadata: { "app.kubernetes.io/name": "web", $where: "x" } },
    });
    expect(doc.registry_id).toBe("r1");
    expect(doc.registry_search_data).toMatchObject({
      registry_id: "r1",
      registry_metadata: { "app\uFF0Ekubernetes\uFF0Eio/name": "web", "\uFF04where": "x" },
    });
    expect(toRegistryCoreData("r2", "not an object")).toMatchObject({ registry_id: "r2", registry_search_data: null });
  });
});

describe("databaseFromUrl", () => {
  it("reads the database from the URL path, if any", () => {
    expect(databaseFromUrl("mongodb://h:27017/sb?retryWrites=true")).toBe("sb");
    expect(databaseFromUrl("mongodb+srv://u:p@cluster.example.net/prod")).toBe("prod");
    expect(databaseFromUrl("mongodb://a:1,b:2/?replicaSet=rs")).toBeUndefined();
    expect(databaseFromUrl("mongodb://127.0.0.1:27017")).toBeUndefined();
  });
});
