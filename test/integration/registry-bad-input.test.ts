// Hostile input to every registry and GraphQL route: always a coded 4xx, never a 500, and the records are unchanged.

import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
  const res = await fetch(`${srv.url}/registry/create`, {
    method: "POST",
    body: JSON.stringify({ registry_id: "keep", registry_search_data: { registry_type: "tool" } }),
  });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await srv.dispose();
});

const deep = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

const BODIES: (string | undefined)[] = [
  undefined,
  "",
  "{",
  "null",
  "[]",
  "42",
  '"text"',
  JSON.stringify({ registry_id: { $gt: "" } }),
  JSON.stringify({ registry_id: "x".repeat(300) }),
  JSON.stringify({ registry_id: "a", registry_search_data: deep(500) }),
  JSON.stringify({ registry_id: "a", registry_acl_config_info: { k: deep(10) } }),
  JSON.stringify({ tags: deep(100) }),
  JSON.stringify({ field: { $ne: 1 }, fragment: ["x"] }),
  JSON.stringify({ filter: deep(2000) }),
  JSON.stringify({ filter: { $or: deep(50) } }),
  JSON.stringify({ filter: {}, limit: "5", sort: { registry_id: 2 } }),
  JSON.stringify({ filter: {}, skip: -1 }),
  JSON.stringify({ filter: { __proto__: { polluted: true } } }),
  JSON.stringify({ query: deep(40) }),
  JSON.stringify({ query: "{".repeat(5000) }),
  JSON.stringify({
    query: "query($a: JSON) { registriesByFilter(mongoFilter: $a) { registryId } }",
    variables: { a: 5 },
  }),
];

const ROUTES: [string, string][] = [
  ["POST", "/registry/create"],
  ["PUT", "/registry/update"],
  ["POST", "/registry/query/by-tags"],
  ["POST", "/registry/query/partial"],
  ["POST", "/registry/query"],
  ["POST", "/registry/upload_zip"],
  ["POST", "/graphql"],
];

it("answers every malformed body with a coded 4xx", async () => {
  for (const [method, path] of ROUTES) {
    for (const body of BODIES) {
      for (const type of ["application/json", "text/plain", "multipart/form-data; boundary=x"]) {
        const res = await fetch(`${srv.url}${path}`, {
          method,
          headers: { "Content-Type": type },
          ...(body === undefined ? {} : { body }),
        });
        const text = await res.text();
        const label = `${method} ${path} ${type} ${String(body).slice(0, 60)}`;
        expect(res.status, label).toBeLessThan(500);
        if (path !== "/graphql" && res.status >= 400) {
          expect(JSON.parse(text).error.code, label).toMatch(/^[A-Z_]+$/);
        }
      }
    }
  }
  expect(({}.constructor.prototype as Record<string, unknown>).polluted).toBeUndefined();
});

it("answers odd paths and query strings with coded 4xx", async () => {
  const paths = [
    "/registry/query/by-id/%E0%A4%A",
    "/registry/query/by-id/..%2F..%2Fetc",
    "/registry/query/by-type/%00",
    "/registry/query/by-url?fragment=a&fragment=b",
    `/registry/search?q=${encodeURIComponent("(".repeat(3000))}`,
    `/registry/search?q=${encodeURIComponent("a:/(a+)+$/")}`,
    "/registry/search?q=x&limit=abc",
    "/registry/upload/status/%2e%2e",
    `/graphql?query=${encodeURIComponent('mutation { deleteRegistry(registryId: "keep") }')}`,
  ];
  for (const p of paths) {
    const res = await fetch(`${srv.url}${p}`);
    expect(res.status, p).toBeLessThan(500);
  }
  const del = await fetch(`${srv.url}/registry/delete/${encodeURIComponent("a/b")}`, { method: "DELETE" });
  expect(del.status).toBe(404);
  // Nothing above changed the record.
  const keep = (await (await fetch(`${srv.url}/registry/query/by-id/keep`)).json()) as {
    registry: { registry_id: string };
  };
  expect(keep.registry.registry_id).toBe("keep");
  const all = (await (await fetch(`${srv.url}/registry/query`, { method: "POST", body: "{}" })).json()) as {
    registries: unknown[];
  };
  expect(all.registries).toHaveLength(1);
});
