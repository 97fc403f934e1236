// The CGSE record mapping: service_info checks, id generation, and records derived from discovery's registers.

import { describe, expect, it } from "vitest";
import type { Register } from "../../../src/core/index.js";
import {
  generateId,
  hasType,
  parseRegistration,
  toCgseRecord,
  toServiceInfo,
} from "../../../src/protocols/zmq/records.js";
import { toService } from "../../../src/services/index.js";

const UUID = "0b6f1c1e-5a43-4d55-9a5e-1f0c2f7d9c11";
const parse = (request: Record<string, unknown>) => parseRegistration(request as never, () => UUID);

function service(r: Partial<Register> & { name: string; value: Register["value"] }) {
  const reg: Register = {
    metadata: {},
    createRevision: 1,
    modRevision: 1,
    version: 1,
    createdAt: 1_000_000,
    updatedAt: 1_000_000,
    expiresAt: null,
    ...r,
  };
  const s = toService(reg);
  if (!s) throw new Error("not a service");
  return s;
}

describe("parseRegistration", () => {
  it("adds the type to tags and metadata, defaults the TTL to 30 s and generates an id", () => {
    const r = parse({ service_info: { name: "CM CS", host: "h", port: 1, type: "CM_CS", tags: ["x"] } });
    expect(r).toEqual({
      ok: true,
      value: {
        id: `cm-cs-${UUID}`,
        type: "CM_CS",
        name: "CM CS",
        host: "h",
        port: 1,
        metadata: { type: "CM_CS" },
        tags: ["x", "CM_CS"],
        ttlMs: 30_000,
        singleton: false,
        allowDuplicateType: false,
      },
    });
  });

  it("takes the type from metadata when service_info has none, and keeps a given id", () => {
    const r = parse({
      service_info: { name: "n", id: "given", host: "h", port: 1, metadata: { type: "T" } },
      ttl: 2.5,
    });
    expect(r).toMatchObject({ ok: true, value: { id: "given", type: "T", tags: ["T"], ttlMs: 2500 } });
  });

  it("words its refusals as CGSE does, and checks what discovery needs", () => {
    const errorOf = (request: Record<string, unknown>) => {
      const r = parse(request);
      return r.ok ? "accepted" : r.error;
    };
    expect(errorOf({})).toBe("Missing required field: service_info");
    expect(errorOf({ service_info: { host: "h", port: 1 } })).toBe("Missing required field in service_info: name");
    expect(errorOf({ service_info: { name: "n", host: "h" } })).toBe("Missing required field in service_info: port");
    expect(errorOf({ service_info: { name: "n", host: "h", port: 70000 } })).toMatch(/port \(expected an integer/);
    expect(errorOf({ service_info: { name: "n", host: "", port: 1 } })).toMatch(/host/);
    expect(errorOf({ service_info: { name: "n", host: "h", port: 1, metadata: [] } })).toMatch(/metadata/);
    expect(errorOf({ service_info: { name: "n", host: "h", port: 1, tags: [1] } })).toMatch(/tags/);
    expect(errorOf({ service_info: { name: "n", host: "h", port: 1, type: "a b" } })).toMatch(/^Invalid service type/);
    expect(errorOf({ service_info: { name: "n", host: "h", port: 1, id: "x".repeat(101) } })).toMatch(
      /^Invalid service id/,
    );
    expect(errorOf({ service_info: { name: "n", host: "h", port: 1 }, ttl: 0 })).toMatch(/^Invalid ttl/);
    expect(errorOf({ service_info: { name: "n", host: "h", port: 1 }, ttl: "30" })).toMatch(/^Invalid ttl/);
    expect(
      parse({ service_info: { name: "n", host: "h", port: 1, singleton: true, allow_duplicate_service_type: true } }),
    ).toEqual({
      ok: false,
      error: "invalid_service_type_policy",
      extra: { message: "singleton and allow_duplicate_service_type cannot both be true." },
    });
  });
});

describe("generateId", () => {
  it("lower-cases, turns spaces (and characters a name segment cannot hold) into '-', and stays within 100", () => {
    expect(generateId("My Service", UUID)).toBe(`my-service-${UUID}`);
    expect(generateId("a/b é", UUID)).toBe(`a-b---${UUID}`);
    const long = generateId("n".repeat(300), UUID);
    expect(long).toHaveLength(100);
    expect(long.endsWith(`-${UUID}`)).toBe(true);
  });
});

describe("toCgseRecord", () => {
  const s = service({
    name: "services/CM_CS/cm-1",
    value: { host: "10.0.0.1", port: 6110, name: "cm", tags: ["CM_CS", 7] },
    metadata: { type: "CM_CS", service_port: 6112, leaseMs: 30_000 },
    updatedAt: 1_000_000,
    // Renewed at 1,010,500: the deadline moved, nothing else.
    expiresAt: 1_040_500,
  });

  it("derives last_heartbeat from the deadline and the lease, and health from the deadline", () => {
    expect(toCgseRecord(s, 1_040_500)).toEqual({
      id: "cm-1",
      name: "cm",
      host: "10.0.0.1",
      port: 6110,
      metadata: { type: "CM_CS", service_port: 6112 },
      ttl: 30,
      last_heartbeat: 1010,
      tags: ["CM_CS"],
      health: "passing",
    });
    expect(toCgseRecord(s, 1_040_501).health).toBe("critical");
  });

  it("renders a service registered elsewhere without name, tags or TTL", () => {
    const plain = service({ name: "services/web/w1", value: { host: "h", port: 80 }, updatedAt: 5_999 });
    expect(toCgseRecord(plain, 10_000_000)).toEqual({
      id: "w1",
      name: "w1",
      host: "h",
      port: 80,
      metadata: {},
      ttl: null,
      last_heartbeat: 5,
      tags: [],
      health: "passing",
    });
    expect(toServiceInfo(plain)).toEqual({
      name: "w1",
      host: "h",
      port: 80,
      id: "w1",
      type: "web",
      metadata: {},
      tags: [],
    });
  });

  it("matches a type in tags, metadata.type or the register's type segment", () => {
    expect(hasType(s, "CM_CS")).toBe(true);
    const tagged = service({ name: "services/untyped/x", value: { host: "h", port: 1, tags: ["gpu"] } });
    expect(hasType(tagged, "gpu")).toBe(true);
    expect(hasType(tagged, "cpu")).toBe(false);
    expect(toServiceInfo(tagged)).not.toHaveProperty("type");
  });
});
