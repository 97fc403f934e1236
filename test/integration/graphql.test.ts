// GraphQL over real HTTP: the seed's queries verbatim, mutations, registers/services/requests, limits and coded errors.

import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
  const specs = [
    {
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
    },
    {
      registry_id: "gpu-pool",
      registry_url: "https://compute.example.org",
      registry_search_data: { registry_type: "agent", registry_search_tags: ["compute"] },
    },
  ];
  for (const s of specs) {
    const res = await fetch(`${srv.url}/registry/create`, { method: "POST", body: JSON.stringify(s) });
    expect(res.status).toBe(201);
  }
});
afterAll(async () => {
  await srv.dispose();
});

async function gql(query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${srv.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}

describe("the seed's GraphQL queries, verbatim", () => {
  it("1. Get Registry by ID", async () => {
    const r = await gql(`query {
  registryById(registryId: "demo-registry") {
    registryId
    registryUrl
    registrySearchData {
      registryType
      registrySearchTags
    }
  }
}`);
    expect(r.body).toEqual({
      data: {
        registryById: {
          registryId: "demo-registry",
          registryUrl: "https://demo.example.com",
          registrySearchData: { registryType: "tool", registrySearchTags: ["AI", "demo"] },
        },
      },
    });
  });

  it("2. Search by Tags", async () => {
    const r = await gql(`query {
  registriesByTags(tags: ["AI", "compute"]) {
    registryId
    registrySearchData {
      registrySearchTags
    }
  }
}`);
    expect(r.body.data.registriesByTags).toEqual([
      { registryId: "demo-registry", registrySearchData: { registrySearchTags: ["AI", "demo"] } },
      { registryId: "gpu-pool", registrySearchData: { registrySearchTags: ["compute"] } },
    ]);
  });

  it("3. Search by Type", async () => {
    const r = await gql(`query {
  registriesByType(registryType: "tool") {
    registryId
    registrySearchData {
      registryType
    }
  }
}`);
    expect(r.body.data.registriesByType).toEqual([
      { registryId: "demo-registry", registrySearchData: { registryType: "tool" } },
    ]);
  });

  it("4. Generic Filter", async () => {
    const r = await gql(`query {
  registriesByFilter(
    mongoFilter: "{ \\"registry_search_data.registry_type\\": \\"tool\\" }"
    limit: 10
  ) {
    registryId
    registryUrl
    registrySearchData {
      registrySearchDescription
    }
  }
}`);
    expect(r.body.data.registriesByFilter).toEqual([
      {
        registryId: "demo-registry",
        registryUrl: "https://demo.example.com",
        registrySearchData: { registrySearchDescription: "Demo registry for testing" },
      },
    ]);
  });

  it("registriesByUrl and every field of the seed's RegistryType", async () => {
    const r = await gql(`{ registriesByUrl(urlFragment: "DEMO.example") {
      registryId registryUrl registryApiIndex registryDocumentationS3Url registryClientSdkS3Url
      registryAssetId healthCheckApi registryAclConfigInfo
      registrySearchData { registryId registryType registrySubType registryMetadata registrySearchTags registrySearchDescription }
    } }`);
    expect(r.body.data.registriesByUrl).toEqual([
      {
        registryId: "demo-registry",
        registryUrl: "https://demo.example.com",
        registryApiIndex: "/v1",
        registryDocumentationS3Url: "s3://docs/demo.zip",
        registryClientSdkS3Url: null,
        registryAssetId: null,
        healthCheckApi: "https://demo.example.com/health",
        registryAclConfigInfo: { visibility: "public" },
        registrySearchData: {
          registryId: "demo-registry",
          registryType: "tool",
          registrySubType: null,
          registryMetadata: {},
          registrySearchTags: ["AI", "demo"],
          registrySearchDescription: "Demo registry for testing",
        },
      },
    ]);
  });

  it("answers null for an unknown id and the search DSL as search(q)", async () => {
    const r = await gql(
      `{ registryById(registryId: "nope") { registryId } search(q: "tags:(compute OR x)") { registryId } }`,
    );
    expect(r.body.data).toEqual({ registryById: null, search: [{ registryId: "gpu-pool" }] });
  });
});

describe("mutations", () => {
  it("creates, updates (merging the search block) and deletes a registry", async () => {
    const created = await gql(
      `mutation($r: RegistryInput!) { createRegistry(registry: $r) { registryId registryClientSdkS3Url registrySearchData { registryType registrySearchTags } } }`,
      {
        r: {
          registryId: "gql-one",
          registryClientSdkS3Url: "s3://sdk/one.zip",
          registrySearchData: { registryType: "tool", registrySearchTags: ["x"] },
        },
      },
    );
    expect(created.body.data.createRegistry).toEqual({
      registryId: "gql-one",
      registryClientSdkS3Url: "s3://sdk/one.zip",
      registrySearchData: { registryType: "tool", registrySearchTags: ["x"] },
    });
    const rest = await (await fetch(`${srv.url}/registry/query/by-id/gql-one`)).json();
    expect(rest.registry.registry_client_sdk_s3_url).toBe("s3://sdk/one.zip");

    const dup = await gql(`mutation { createRegistry(registry: {registryId: "gql-one"}) { registryId } }`);
    expect(dup.body.errors?.[0]?.extensions?.code).toBe("REGISTRY_EXISTS");

    const updated = await gql(
      `mutation { updateRegistry(registry: {registryId: "gql-one", registrySearchData: {registrySubType: "sub"}}) {
        registryClientSdkS3Url registrySearchData { registryType registrySubType registrySearchTags } } }`,
    );
    expect(updated.body.data.updateRegistry).toEqual({
      registryClientSdkS3Url: "s3://sdk/one.zip",
      registrySearchData: { registryType: "tool", registrySubType: "sub", registrySearchTags: ["x"] },
    });

    const missing = await gql(`mutation { updateRegistry(registry: {registryId: "ghost"}) { registryId } }`);
    expect(missing.body.errors?.[0]?.extensions?.code).toBe("REGISTRY_NOT_FOUND");

    const bad = await gql(`mutation { createRegistry(registry: {registryId: "bad id"}) { registryId } }`);
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({
      code: "INVALID_BODY",
      details: [{ path: "registry_id" }],
    });

    const del = await gql(`mutation { deleteRegistry(registryId: "gql-one") }`);
    expect(del.body.data).toEqual({ deleteRegistry: true });
    const again = await gql(`mutation { deleteRegistry(registryId: "gql-one") }`);
    expect(again.body.errors?.[0]?.extensions?.code).toBe("REGISTRY_NOT_FOUND");
  });

  it("sets, pages, reads and deletes registers; queues and lists change requests", async () => {
    const set = await gql(
      `mutation { setRegisters(registers: [{name: "lamp/a", value: {on: true}}, {name: "lamp/b", value: 2, metadata: {room: "hall"}}]) {
        index registers { name version value metadata } } }`,
    );
    expect(set.body.data.setRegisters.registers).toEqual([
      { name: "lamp/a", version: 1, value: { on: true }, metadata: {} },
      { name: "lamp/b", version: 1, value: 2, metadata: { room: "hall" } },
    ]);
    const page1 = await gql(`{ registers(prefix: "lamp/", first: 1) { registers { name } endCursor hasNextPage } }`);
    expect(page1.body.data.registers).toMatchObject({ registers: [{ name: "lamp/a" }], hasNextPage: true });
    const page2 = await gql(
      `query($c: String) { registers(prefix: "lamp/", first: 1, after: $c) { registers { name } hasNextPage } }`,
      {
        c: page1.body.data.registers.endCursor,
      },
    );
    expect(page2.body.data.registers).toEqual({ registers: [{ name: "lamp/b" }], hasNextPage: false });
    const one = await gql(
      `{ register(name: "lamp/a") { value createdAt expiresAt } none: register(name: "lamp/z") { name } }`,
    );
    expect(one.body.data.register.value).toEqual({ on: true });
    expect(one.body.data.none).toBeNull();

    const req = await gql(
      `mutation { requestChange(name: "lamp/a", value: {on: false}, requester: "ui") { id name value requester } }`,
    );
    expect(req.body.data.requestChange).toMatchObject({ name: "lamp/a", value: { on: false }, requester: "ui" });
    const pending = await gql(`{ changeRequests(name: "lamp/a") { id value } }`);
    expect(pending.body.data.changeRequests).toEqual([{ id: req.body.data.requestChange.id, value: { on: false } }]);

    const deleted = await gql(`mutation { deleteRegisters(names: ["lamp/a", "lamp/none"]) }`);
    expect(deleted.body.data).toEqual({ deleteRegisters: ["lamp/a"] });

    const badName = await gql(`mutation { setRegisters(registers: [{name: "bad name", value: 1}]) { index } }`);
    expect(badName.body.errors?.[0]?.extensions?.code).toBe("INVALID_NAME");
    const badCursor = await gql(`{ registers(after: "!!") { hasNextPage } }`);
    expect(badCursor.body.errors?.[0]?.extensions?.code).toBe("INVALID_CURSOR");
  });

  it("holds a consumerPoll until a change and frees it when the client goes away", async () => {
    const { index } = (await gql(`mutation { setRegisters(registers: [{name: "poll/x", value: 1}]) { index } }`)).body
      .data.setRegisters;
    const held = gql(
      `query($i: Float) { consumerPoll(names: ["poll/x"], index: $i, waitMs: 10000) { index registers { name register { value } } } }`,
      { i: index },
    );
    await expect.poll(() => srv.server.core.stats().waiters.consumer).toBe(1);
    await gql(`mutation { setRegisters(registers: [{name: "poll/x", value: 2}]) { index } }`);
    const woke = (await held).body.data.consumerPoll;
    expect(woke.index).toBeGreaterThan(index);
    expect(woke.registers).toEqual([{ name: "poll/x", register: { value: 2 } }]);

    const abort = new AbortController();
    const gone = fetch(`${srv.url}/graphql`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        query: `{ consumerPoll(names: ["poll/x"], index: ${woke.index}, waitMs: 10000) { index } }`,
      }),
      signal: abort.signal,
    }).catch(() => "aborted");
    await expect.poll(() => srv.server.core.stats().waiters.consumer).toBe(1);
    abort.abort();
    expect(await gone).toBe("aborted");
    await expect.poll(() => srv.server.core.stats().waiters.consumer).toBe(0);
  });

  it("lists registered services", async () => {
    await srv.server.services.discovery.register({
      type: "db",
      id: "pg1",
      endpoint: { host: "127.0.0.1", port: 5432 },
      ttlMs: null,
    });
    const r = await gql(`{ services(type: "db") { type id host port } unhealthy: services(healthy: false) { id } }`);
    expect(r.body.data).toEqual({
      services: [{ type: "db", id: "pg1", host: "127.0.0.1", port: 5432 }],
      unhealthy: [],
    });
  });
});

describe("limits and errors", () => {
  it("accepts the standard introspection query but refuses a deeper __schema nest", async () => {
    const ok = await gql(getIntrospectionQuery());
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data.__schema.queryType.name).toBe("Query");
    let nest = "name";
    for (let i = 0; i < 20; i++) nest = `ofType { ${nest} }`;
    const deep = await gql(`{ __schema { types { fields { type { ${nest} } } } } }`);
    expect(deep.body.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COMPLEX");
    expect(deep.body.data).toBeUndefined();
  });

  it("refuses too many top-level fields, fan-out fragments and deep documents", async () => {
    const batch = Array.from({ length: 21 }, (_, i) => `a${i}: registryById(registryId: "x") { registryId }`).join(" ");
    const b = await gql(`{ ${batch} }`);
    expect(b.body.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COMPLEX");

    let frags = "fragment F0 on RegistryType { registryId registryUrl }";
    for (let i = 1; i <= 30; i++)
      frags += ` fragment F${i} on RegistryType { ...F${i - 1} a: registrySearchData { registryId } ...F${i - 1} }`;
    const fan = await gql(`{ registriesByType(registryType: "tool") { ...F30 } } ${frags}`);
    expect(fan.body.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COMPLEX");

    const deepDoc = `{ ${'registryById(registryId: "x") { '.repeat(2000)}registryId${" }".repeat(2000)} }`;
    const d = await gql(deepDoc);
    expect(d.status).toBeLessThan(500);
    expect(d.body.errors?.[0]?.extensions?.code).toBe("QUERY_TOO_COMPLEX");
  });

  it("answers syntax errors, unknown fields, bad filters and bad variables with codes", async () => {
    const syntax = await gql(`{ registryById(`);
    expect(syntax.body.errors?.[0]?.extensions?.code).toBe("INVALID_QUERY");
    const strict = await fetch(`${srv.url}/graphql`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/graphql-response+json" },
      body: JSON.stringify({ query: "{ registryById(" }),
    });
    expect(strict.status).toBe(400);
    const unknown = await gql(`{ nothing }`);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("INVALID_QUERY");
    const filter = await gql(`{ registriesByFilter(mongoFilter: "{\\"$where\\": \\"1\\"}") { registryId } }`);
    expect(filter.body.errors?.[0]?.extensions?.code).toBe("INVALID_FILTER");
    const notJson = await gql(`{ registriesByFilter(mongoFilter: "{") { registryId } }`);
    expect(notJson.body.errors?.[0]?.extensions?.code).toBe("INVALID_FILTER");
    const limit = await gql(`{ registriesByFilter(mongoFilter: "{}", limit: 5000) { registryId } }`);
    expect(limit.body.errors?.[0]?.extensions?.code).toBe("INVALID_QUERY");
    const dsl = await gql(`{ search(q: "type:(") { registryId } }`);
    expect(dsl.body.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_QUERY", details: { position: 6 } });
    const vars = await gql(`query($n: String!) { register(name: $n) { name } }`, { n: 5 });
    expect(vars.body.errors?.[0]?.extensions?.code).toBe("INVALID_QUERY");
    for (const body of ["{", "[]", JSON.stringify({ query: 5 })]) {
      const res = await fetch(`${srv.url}/graphql`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      expect(res.status, body).toBe(400);
    }
  });

  it("serves GraphiQL to browsers with every asset from the server itself", async () => {
    const res = await fetch(`${srv.url}/graphql`, { headers: { Accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Switchboard GraphiQL");
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBe(4);
    for (const ref of refs) {
      expect(ref.startsWith("/graphql/assets/"), ref).toBe(true);
      expect((await fetch(`${srv.url}${ref}`)).status, ref).toBe(200);
    }
  });
});
