// /openapi.json against real answers: every documented operation is exercised, every answer's status is one the
// document lists for it, and every JSON body conforms to the schema documented for that status (the schemas are
// generated from the zod schemas the server validates bodies with and types its answers by). The server runs with
// auth on, so the ACL routes answer too; scenarios send the admin token unless they are anonymous.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check } from "../helpers/json-schema.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Doc = { paths: Record<string, Record<string, { responses: Record<string, any> }>> } & Record<string, any>;

interface Scenario {
  readonly method: "GET" | "PUT" | "POST" | "DELETE";
  /** The documented path (a template such as /services/{type}). */
  readonly path: string;
  /** The path requested, when it is not `path` itself; a function reads what earlier scenarios kept. */
  readonly url?: string | (() => string);
  readonly query?: string;
  readonly body?: unknown;
  /** A multipart body instead of JSON. */
  readonly form?: () => FormData;
  readonly anonymous?: boolean;
  readonly status: number;
  /** Keeps something of the answer for later scenarios. */
  readonly keep?: (body: any) => void;
}

const kept: { tokenId?: string; taskId?: string } = {};

/** An upload form: the record's spec and a zip part (its bytes are only read later, by the background task). */
function uploadForm(spec: unknown, zip = true): FormData {
  const form = new FormData();
  form.append("spec", JSON.stringify(spec));
  if (zip) form.append("zip", new Blob([new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)])]), "b.zip");
  return form;
}

const REG = {
  registry_id: "oa-reg",
  registry_url: "https://oa.example.com",
  registry_acl_config_info: { visibility: "public" },
  registry_search_data: { registry_type: "tool", registry_search_tags: ["oa"] },
};

// Statuses a client can meet on each route: successes, bad input, unknown registers, too-large bodies.
const SCENARIOS: Scenario[] = [
  { method: "PUT", path: "/provider", body: { name: "oa/a", value: 1, ttl: "1h" }, status: 200 },
  { method: "PUT", path: "/provider", body: { registers: [{ name: "oa/b", value: { x: [1] } }] }, status: 200 },
  { method: "PUT", path: "/provider", body: { name: "bad name!", value: 1 }, status: 400 },
  { method: "PUT", path: "/provider", body: { name: "oa/big", value: "x".repeat(2_000_000) }, status: 413 },
  { method: "GET", path: "/provider", query: "name=oa/a&after=0&wait=0", status: 200 },
  { method: "GET", path: "/provider", query: "wait=0", status: 400 },
  { method: "DELETE", path: "/provider", query: "name=oa/b", status: 200 },
  { method: "DELETE", path: "/provider", query: "", status: 400 },
  { method: "GET", path: "/consumer", query: "name=oa/a&name=oa/none", status: 200 },
  { method: "GET", path: "/consumer", query: "prefix=oa/&index=1&wait=0", status: 200 },
  { method: "GET", path: "/consumer", query: "name=oa/a&wait=banana", status: 400 },
  { method: "PUT", path: "/consumer", body: { name: "oa/a", value: 2 }, status: 202 },
  { method: "PUT", path: "/consumer", body: { requests: [{ name: "oa/a", value: 3, requester: "t" }] }, status: 202 },
  { method: "PUT", path: "/consumer", body: { name: "oa/none", value: 2 }, status: 404 },
  { method: "PUT", path: "/consumer", body: "not json", status: 400 },
  { method: "PUT", path: "/provider/acks", body: { acks: [{ id: 999999, status: "done" }] }, status: 200 },
  { method: "PUT", path: "/provider/acks", body: { acks: [{ id: 1, status: "maybe" }] }, status: 400 },
  // The literal path template is not a request id.
  { method: "GET", path: "/consumer/requests/{id}", status: 400 },
  { method: "GET", path: "/registers", query: "prefix=oa/&limit=1", status: 200 },
  { method: "GET", path: "/registers", query: "cursor=zzz", status: 400 },
  { method: "GET", path: "/events", query: "prefix=bad prefix!", status: 400 },
  { method: "GET", path: "/healthz", status: 200 },
  { method: "GET", path: "/readyz", status: 200 },
  { method: "GET", path: "/status", status: 200 },
  { method: "GET", path: "/metrics", status: 200 },
  { method: "GET", path: "/openapi.json", status: 200 },
  { method: "GET", path: "/status", anonymous: true, status: 401 },
  { method: "GET", path: "/metrics", anonymous: true, status: 401 },
  { method: "GET", path: "/openapi.json", anonymous: true, status: 401 },
  // ACL management (admin only).
  {
    method: "PUT",
    path: "/acl/policies/{name}",
    url: "/acl/policies/oa-reader",
    body: { rules: [{ prefix: "oa/", read: true }] },
    status: 200,
  },
  { method: "PUT", path: "/acl/policies/{name}", url: "/acl/policies/oa-bad", body: { rules: "all" }, status: 400 },
  { method: "GET", path: "/acl/policies", status: 200 },
  { method: "GET", path: "/acl/policies", anonymous: true, status: 401 },
  {
    method: "POST",
    path: "/acl/tokens",
    body: { policies: ["oa-reader"], description: "openapi test" },
    status: 201,
    keep: (b) => {
      kept.tokenId = b.id;
    },
  },
  { method: "POST", path: "/acl/tokens", body: { policies: [] }, status: 400 },
  { method: "GET", path: "/acl/tokens", status: 200 },
  { method: "DELETE", path: "/acl/tokens/{id}", url: () => `/acl/tokens/${kept.tokenId}`, status: 200 },
  { method: "DELETE", path: "/acl/tokens/{id}", url: "/acl/tokens/none", status: 404 },
  { method: "DELETE", path: "/acl/policies/{name}", url: "/acl/policies/oa-reader", status: 200 },
  { method: "DELETE", path: "/acl/policies/{name}", url: "/acl/policies/oa-reader", status: 404 },
  // Discovery: services/<type>/<id> with a lease.
  {
    method: "POST",
    path: "/services",
    body: { type: "oa-web", id: "w1", host: "127.0.0.1", port: 1, ttl: "1h", tags: ["blue"], zone: "a" },
    status: 201,
  },
  { method: "POST", path: "/services", body: { type: "oa-web", port: 80 }, status: 400 },
  { method: "GET", path: "/services", query: "tag=blue", status: 200 },
  { method: "GET", path: "/services", query: "healthy=maybe", status: 400 },
  { method: "GET", path: "/services/{type}", url: "/services/oa-web", query: "index=0&wait=0", status: 200 },
  { method: "GET", path: "/services/{type}", url: "/services/oa-web", query: "index=x", status: 400 },
  { method: "GET", path: "/services/{type}/{id}", url: "/services/oa-web/w1", status: 200 },
  { method: "GET", path: "/services/{type}/{id}", url: "/services/oa-web/none", status: 404 },
  { method: "PUT", path: "/services/{type}/{id}/heartbeat", url: "/services/oa-web/w1/heartbeat", status: 200 },
  {
    method: "PUT",
    path: "/services/{type}/{id}/heartbeat",
    url: "/services/oa-web/w1/heartbeat",
    body: { ttl: 0 },
    status: 400,
  },
  { method: "POST", path: "/services/{type}/{id}/check", url: "/services/oa-web/w1/check", status: 200 },
  { method: "POST", path: "/services/{type}/{id}/check", url: "/services/oa-web/none/check", status: 404 },
  { method: "POST", path: "/registry/health/{id}", url: "/registry/health/none", status: 404 },
  { method: "DELETE", path: "/services/{type}/{id}", url: "/services/oa-web/w1", status: 200 },
  { method: "DELETE", path: "/services/{type}/{id}", url: "/services/oa-web/w1", status: 404 },
  // The registry of registries: records registries/<registry_id>.
  { method: "POST", path: "/registry/create", body: REG, status: 201 },
  { method: "POST", path: "/registry/create", body: REG, status: 409 },
  { method: "POST", path: "/registry/create", body: { registry_id: "bad id!" }, status: 400 },
  { method: "PUT", path: "/registry/update", body: { ...REG, registry_url: "https://oa2.example.com" }, status: 200 },
  { method: "PUT", path: "/registry/update", body: { ...REG, registry_id: "oa-none" }, status: 404 },
  { method: "GET", path: "/registry/query/by-id/{id}", url: "/registry/query/by-id/oa-reg", status: 200 },
  { method: "GET", path: "/registry/query/by-id/{id}", url: "/registry/query/by-id/oa-none", status: 404 },
  { method: "GET", path: "/registry/query/by-type/{type}", url: "/registry/query/by-type/tool", status: 200 },
  { method: "POST", path: "/registry/query/by-tags", body: { tags: ["oa"] }, status: 200 },
  { method: "POST", path: "/registry/query/by-tags", body: { tags: [] }, status: 400 },
  { method: "GET", path: "/registry/query/by-url", query: "fragment=oa2", status: 200 },
  { method: "GET", path: "/registry/query/by-url", status: 400 },
  { method: "POST", path: "/registry/query/partial", body: { field: "registry_url", fragment: "oa" }, status: 200 },
  { method: "POST", path: "/registry/query/partial", body: { field: "" }, status: 400 },
  { method: "POST", path: "/registry/query", body: { filter: { registry_id: "oa-reg" } }, status: 200 },
  { method: "POST", path: "/registry/query", body: { filter: { $where: "1" } }, status: 400 },
  { method: "GET", path: "/registry/search", query: "q=oa", status: 200 },
  { method: "GET", path: "/registry/search", status: 400 },
  {
    method: "POST",
    path: "/registry/upload_zip",
    form: () => uploadForm({ ...REG, registry_id: "oa-up" }),
    status: 202,
    keep: (b) => {
      kept.taskId = b.task_id;
    },
  },
  { method: "POST", path: "/registry/upload_zip", form: () => uploadForm(REG, false), status: 400 },
  {
    method: "GET",
    path: "/registry/upload/status/{taskId}",
    url: () => `/registry/upload/status/${kept.taskId}`,
    status: 200,
  },
  {
    method: "GET",
    path: "/registry/upload/status/{taskId}",
    url: "/registry/upload/status/00000000-0000-0000-0000-000000000000",
    status: 404,
  },
  { method: "DELETE", path: "/registry/delete/{id}", url: "/registry/delete/oa-reg", status: 200 },
  { method: "DELETE", path: "/registry/delete/{id}", url: "/registry/delete/oa-reg", status: 404 },
];

describe("/openapi.json", () => {
  let srv: TestServer;
  let doc: Doc;
  let admin: Record<string, string>;
  beforeAll(async () => {
    srv = await startTestServer({ config: { auth: "on", authFailuresPerMinute: 1000 } });
    admin = { Authorization: `Bearer ${readFileSync(join(srv.dataDir, "admin.token"), "utf8").trim()}` };
    doc = (await (await fetch(`${srv.url}/openapi.json`, { headers: admin })).json()) as Doc;
  });
  afterAll(async () => {
    await srv.dispose();
  });

  it("documents every operation the scenarios exercise, and the scenarios exercise every documented one", () => {
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    const exercised = [...new Set(SCENARIOS.map((s) => `${s.method} ${s.path}`))];
    expect(exercised.sort()).toEqual(documented.sort());
  });

  it.each(SCENARIOS)("$method $path?$query → $status, as documented", async (s) => {
    const path = typeof s.url === "function" ? s.url() : (s.url ?? s.path);
    const url = `${srv.url}${path}${s.query === undefined ? "" : `?${s.query}`}`;
    const init: RequestInit = { method: s.method, headers: s.anonymous ? {} : admin };
    if (s.body !== undefined) init.body = typeof s.body === "string" ? s.body : JSON.stringify(s.body);
    if (s.form) init.body = s.form();
    const res = await fetch(url, init);
    expect(res.status).toBe(s.status);
    const op = doc.paths[s.path]?.[s.method.toLowerCase()];
    expect(op, `${s.method} ${s.path} is not documented`).toBeDefined();
    const documented = op!.responses[String(s.status)];
    expect(documented, `${s.status} is not documented for ${s.method} ${s.path}`).toBeDefined();
    // A body the server accepted must be one the document describes.
    const requestSchema = (op as any).requestBody?.content?.["application/json"]?.schema;
    if (s.status < 300 && requestSchema && s.body !== undefined) expect(check(s.body, requestSchema, doc)).toEqual([]);
    const schema = documented.content?.["application/json"]?.schema;
    if (schema) {
      const body = await res.json();
      expect(check(body, schema, doc)).toEqual([]);
      s.keep?.(body);
    } else {
      await res.body?.cancel();
    }
  });
});
