// The seed's lifecycle and query routes over real HTTP: every curl example, field-level errors, coded refusals.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
});
afterAll(async () => {
  await srv.dispose();
});

/** The seed's create payload, verbatim. */
const DEMO = {
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
};

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const ids = (b: Record<string, any>) => (b.registries as { registry_id: string }[]).map((r) => r.registry_id);

describe("lifecycle (seed section: Create, Update, Delete)", () => {
  it("creates the seed's demo registry with 201 and the full record shape", async () => {
    const r = await call("POST", "/registry/create", DEMO);
    expect(r.status).toBe(201);
    expect(r.body.registry).toEqual({
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
    });
    expect(r.body.index).toBeGreaterThan(0);
    // The record is the register registries/demo-registry.
    const reg = await call("GET", "/registers?prefix=registries/");
    expect(reg.body.registers.map((x: { name: string }) => x.name)).toEqual(["registries/demo-registry"]);
  });

  it("refuses a second create of the same id with 409 REGISTRY_EXISTS and keeps the first", async () => {
    const r = await call("POST", "/registry/create", { ...DEMO, registry_url: "https://other" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("REGISTRY_EXISTS");
    const got = await call("GET", "/registry/query/by-id/demo-registry");
    expect(got.body.registry.registry_url).toBe("https://demo.example.com");
    const labels = { protocol: "registry-api" };
    expect(
      await metricValue(srv.url, "switchboard_protocol_errors_total", { ...labels, code: "REGISTRY_EXISTS" }),
    ).toBe(1);
    expect(
      await metricValue(srv.url, "switchboard_protocol_operations_total", { ...labels, operation: "create" }),
    ).toBe(2);
  });

  it("updates only the given fields (the seed's update payload)", async () => {
    const r = await call("PUT", "/registry/update", {
      registry_id: "demo-registry",
      registry_url: "https://demo-updated.example.com",
    });
    expect(r.status).toBe(200);
    expect(r.body.registry.registry_url).toBe("https://demo-updated.example.com");
    expect(r.body.registry.registry_api_index).toBe("/v1");
    expect(r.body.registry.registry_search_data.registry_search_tags).toEqual(["AI", "demo"]);
  });

  it("merges registry_search_data field by field", async () => {
    const r = await call("PUT", "/registry/update", {
      registry_id: "demo-registry",
      registry_search_data: { registry_sub_type: "vision", registry_metadata: { owner: "lab" } },
    });
    expect(r.status).toBe(200);
    expect(r.body.registry.registry_search_data).toEqual({
      registry_id: "demo-registry",
      registry_type: "tool",
      registry_sub_type: "vision",
      registry_metadata: { owner: "lab" },
      registry_search_tags: ["AI", "demo"],
      registry_search_description: "Demo registry for testing",
    });
    const cleared = await call("PUT", "/registry/update", {
      registry_id: "demo-registry",
      registry_search_data: { registry_sub_type: null },
    });
    expect(cleared.body.registry.registry_search_data.registry_sub_type).toBeNull();
    expect(cleared.body.registry.registry_search_data.registry_type).toBe("tool");
  });

  it("answers 404 REGISTRY_NOT_FOUND for an update of an unknown id, creating nothing", async () => {
    const r = await call("PUT", "/registry/update", { registry_id: "nope", registry_url: "https://x" });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("REGISTRY_NOT_FOUND");
    expect((await call("GET", "/registry/query/by-id/nope")).status).toBe(404);
  });

  it("refuses bad specs with INVALID_BODY naming each bad field", async () => {
    const r = await call("POST", "/registry/create", {
      registry_id: "bad id!",
      registry_url: 5,
      registry_acl_config_info: { visibility: 1 },
      registry_search_data: { registry_search_tags: "AI" },
      registry_colour: "red",
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("INVALID_BODY");
    const paths = (r.body.error.details as { path: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual([
      "",
      "registry_acl_config_info.visibility",
      "registry_id",
      "registry_search_data.registry_search_tags",
      "registry_url",
    ]);
    const mismatch = await call("POST", "/registry/create", {
      registry_id: "a",
      registry_search_data: { registry_id: "b" },
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.details).toEqual([{ path: "registry_search_data.registry_id", message: 'must be "a"' }]);
    for (const body of ["{not json", "[]", "null", '"x"', "{}"]) {
      const bad = await call("POST", "/registry/create", body);
      expect(bad.status, body).toBe(400);
      expect(bad.body.error.code).toBe("INVALID_BODY");
    }
    const badUpdate = await call("PUT", "/registry/update", { registry_url: "https://x" });
    expect(badUpdate.status).toBe(400);
    expect((await call("GET", "/registry/query/by-id/a")).status).toBe(404);
  });

  it("deletes by id (the seed's DELETE) and answers 404 for an unknown id", async () => {
    await call("POST", "/registry/create", { registry_id: "short-lived" });
    const r = await call("DELETE", "/registry/delete/short-lived");
    expect(r.status).toBe(200);
    expect(r.body.registry_id).toBe("short-lived");
    expect((await call("GET", "/registry/query/by-id/short-lived")).status).toBe(404);
    const again = await call("DELETE", "/registry/delete/short-lived");
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("REGISTRY_NOT_FOUND");
    expect((await call("DELETE", "/registry/delete/has%20space")).status).toBe(404);
  });

  it("long-polls record changes with GET /consumer?prefix=registries/", async () => {
    const first = await call("GET", "/consumer?prefix=registries/&index=0");
    const index = first.body.index as number;
    const poll = fetch(`${srv.url}/consumer?prefix=registries/&index=${index}&wait=10s`).then(
      async (res) => (await res.json()) as Record<string, any>,
    );
    await call("POST", "/registry/create", { registry_id: "polled" });
    const woke = await poll;
    expect(woke.registers.map((r: { name: string }) => r.name)).toContain("registries/polled");
  });
});

describe("queries (seed section: Query APIs)", () => {
  beforeAll(async () => {
    const more = [
      {
        registry_id: "openai-vision",
        registry_url: "https://api.OpenAI.com/vision",
        registry_search_data: {
          registry_type: "tool",
          registry_search_tags: ["AI", "vision"],
          registry_search_description: "Image and vision models",
          registry_metadata: { vendor: "openai" },
        },
      },
      {
        registry_id: "gpu-pool",
        registry_url: "https://compute.example.org",
        registry_acl_config_info: { org: "infra" },
        registry_search_data: { registry_type: "agent", registry_search_tags: ["compute"] },
      },
      { registry_id: "bare" },
    ];
    for (const spec of more) expect((await call("POST", "/registry/create", spec)).status).toBe(201);
  });

  it("GET /registry/query/by-id/demo-registry", async () => {
    const r = await call("GET", "/registry/query/by-id/demo-registry");
    expect(r.status).toBe(200);
    expect(r.body.registry.registry_id).toBe("demo-registry");
    expect(r.body.index).toBeGreaterThan(0);
    const missing = await call("GET", "/registry/query/by-id/unknown");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("REGISTRY_NOT_FOUND");
  });

  it("GET /registry/query/by-type/tool", async () => {
    const r = await call("GET", "/registry/query/by-type/tool");
    expect(r.status).toBe(200);
    expect(ids(r.body)).toEqual(["demo-registry", "openai-vision"]);
    expect(ids((await call("GET", "/registry/query/by-type/none")).body)).toEqual([]);
  });

  it("POST /registry/query/by-tags (the seed's payload: any of the tags)", async () => {
    const r = await call("POST", "/registry/query/by-tags", { tags: ["AI", "compute"] });
    expect(r.status).toBe(200);
    expect(ids(r.body)).toEqual(["demo-registry", "gpu-pool", "openai-vision"]);
    for (const bad of [{}, { tags: [] }, { tags: "AI" }, { tags: [1] }]) {
      const e = await call("POST", "/registry/query/by-tags", bad);
      expect(e.status).toBe(400);
      expect(e.body.error.code).toBe("INVALID_BODY");
    }
  });

  it("GET /registry/query/by-url?fragment=openai (case-insensitive)", async () => {
    const r = await call("GET", "/registry/query/by-url?fragment=openai");
    expect(ids(r.body)).toEqual(["openai-vision"]);
    expect(ids((await call("GET", "/registry/query/by-url?fragment=EXAMPLE")).body)).toEqual([
      "demo-registry",
      "gpu-pool",
    ]);
    // A fragment is text, not a pattern.
    expect(ids((await call("GET", "/registry/query/by-url?fragment=.*")).body)).toEqual([]);
    const missing = await call("GET", "/registry/query/by-url");
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("INVALID_QUERY");
  });

  it("POST /registry/query/partial (the seed's payload) with an allow-listed field", async () => {
    const r = await call("POST", "/registry/query/partial", {
      field: "registry_search_data.registry_search_description",
      fragment: "vision",
    });
    expect(ids(r.body)).toEqual(["openai-vision"]);
    const tag = await call("POST", "/registry/query/partial", {
      field: "registry_search_data.registry_search_tags",
      fragment: "comp",
    });
    expect(ids(tag.body)).toEqual(["gpu-pool"]);
    const meta = await call("POST", "/registry/query/partial", {
      field: "registry_search_data.registry_metadata.vendor",
      fragment: "OPEN",
    });
    expect(ids(meta.body)).toEqual(["openai-vision"]);
    const acl = await call("POST", "/registry/query/partial", {
      field: "registry_acl_config_info.org",
      fragment: "inf",
    });
    expect(ids(acl.body)).toEqual(["gpu-pool"]);
    const escaped = await call("POST", "/registry/query/partial", { field: "registry_url", fragment: "(" });
    expect(escaped.status).toBe(200);
    expect(ids(escaped.body)).toEqual([]);
    for (const field of ["registry_search_data", "__proto__", "registry_acl_config_info.", "x.y"]) {
      const e = await call("POST", "/registry/query/partial", { field, fragment: "a" });
      expect(e.status, field).toBe(400);
      expect(e.body.error.code).toBe("INVALID_QUERY");
    }
  });

  it("POST /registry/query (the seed's Mongo filter)", async () => {
    const r = await call("POST", "/registry/query", {
      filter: {
        "registry_search_data.registry_type": "tool",
        registry_url: { $regex: "openai", $options: "i" },
      },
      limit: 50,
    });
    expect(r.status).toBe(200);
    expect(ids(r.body)).toEqual(["openai-vision"]);
  });

  it("sorts, skips and limits; limit defaults to 50 and is at most 1000", async () => {
    const sorted = await call("POST", "/registry/query", { filter: {}, sort: { registry_id: -1 }, skip: 1, limit: 2 });
    expect(ids(sorted.body)).toEqual(["openai-vision", "gpu-pool"]);
    const all = await call("POST", "/registry/query", {});
    expect(ids(all.body)).toEqual(["bare", "demo-registry", "gpu-pool", "openai-vision", "polled"]);
    const tooMany = await call("POST", "/registry/query", { filter: {}, limit: 1001 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe("INVALID_BODY");
    const ops = await call("POST", "/registry/query", {
      filter: { $or: [{ "registry_search_data.registry_search_tags": { $in: ["compute"] } }, { registry_id: "bare" }] },
    });
    expect(ids(ops.body)).toEqual(["bare", "gpu-pool"]);
  });

  it("refuses code-running and unknown operators with 400 INVALID_FILTER", async () => {
    const refused = [
      { $where: "this.registry_id == 'bare'" },
      { $expr: { $function: { body: "return true", args: [], lang: "js" } } },
      { registry_id: { $function: {} } },
      { $accumulator: {} },
      { registry_id: { $foo: 1 } },
      { registry_url: { $regex: "(" } },
      { registry_url: { $regex: "(a+)+$" } },
      { registry_url: { $regex: "(x|xx)*y" } },
      { registry_url: { $regex: "(a)\\1" } },
      { registry_url: { $regex: "a", $options: "g" } },
      { registry_url: { $regex: 5 } },
      [],
      "registry_id",
    ];
    for (const filter of refused) {
      const r = await call("POST", "/registry/query", { filter });
      expect(r.status, JSON.stringify(filter)).toBe(400);
      expect(r.body.error.code).toBe("INVALID_FILTER");
    }
    let deep: unknown = { registry_id: "x" };
    for (let i = 0; i < 40; i++) deep = { $and: [deep] };
    const d = await call("POST", "/registry/query", { filter: deep });
    expect(d.status).toBe(400);
    expect(d.body.error.code).toBe("INVALID_FILTER");
  });

  it("GET /registry/search with the DSL, its aliases and full paths", async () => {
    const q = async (query: string) => {
      const r = await call("GET", `/registry/search?q=${encodeURIComponent(query)}`);
      expect(r.status, query).toBe(200);
      return ids(r.body);
    };
    expect(await q('type:tool AND tags:(AI OR vision) AND description:"image*"')).toEqual(["openai-vision"]);
    expect(await q("type:tool AND tags:(AI OR vision)")).toEqual(["demo-registry", "openai-vision"]);
    expect(await q("registry_search_data.registry_type:agent")).toEqual(["gpu-pool"]);
    expect(await q("metadata.vendor:openai")).toEqual(["openai-vision"]);
    expect(await q("url:example AND NOT id:gpu-pool")).toEqual(["demo-registry"]);
    expect(await q("tags:(-AI compute)")).toEqual(["gpu-pool"]);
    expect(await q("-type:tool AND -type:agent")).toEqual(["bare", "polled"]);
    expect(await q("id:bare OR id:polled")).toEqual(["bare", "polled"]);
    const limited = await call("GET", "/registry/search?q=type:tool&limit=1");
    expect(ids(limited.body)).toEqual(["demo-registry"]);
  });

  it("answers a DSL syntax error with 400 INVALID_QUERY and the position", async () => {
    const cases: [string, number][] = [
      ["type:tool AND (", 15],
      ["tags:(AI OR", 11],
      ["a:b:c", 3],
      ["type:tool AND )", 14],
      ["tags:(AI OR x:y)", 12],
    ];
    for (const [query, position] of cases) {
      const r = await call("GET", `/registry/search?q=${encodeURIComponent(query)}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error.code).toBe("INVALID_QUERY");
      expect(r.body.error.details.position, query).toBe(position);
    }
    for (const path of ["/registry/search", "/registry/search?q=a&q=b", "/registry/search?q=a&limit=0"]) {
      const r = await call("GET", path);
      expect(r.status, path).toBe(400);
      expect(r.body.error.code).toBe("INVALID_QUERY");
    }
    const proto = await call("GET", `/registry/search?q=${encodeURIComponent("__proto__.x:1")}`);
    expect(proto.status).toBe(400);
    // A regex that can backtrack exponentially is refused, one that cannot is run.
    const redos = await call("GET", `/registry/search?q=${encodeURIComponent("url:/(a+)+$/")}`);
    expect(redos.status).toBe(400);
    expect(redos.body.error.code).toBe("INVALID_QUERY");
    const plain = await call("GET", `/registry/search?q=${encodeURIComponent("url:/openai/i")}`);
    expect(ids(plain.body)).toEqual(["openai-vision"]);
  });
});
