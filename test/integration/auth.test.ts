// Auth on every REST route: a decision table (route × principal) generated from the server's own route list,
// so a route without an ACL decision fails; plus revocation, filtering, bootstrap, CORS and rate limits.

import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "graphql-sse";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Role = "anonymous" | "wrong" | "reader" | "provider" | "requester" | "svc" | "reg" | "admin";
const ROLES: Role[] = ["anonymous", "wrong", "reader", "provider", "requester", "svc", "reg", "admin"];
/** ok: allowed (any status but 401/403); 401 / 403: refused with that status. */
type Outcome = "ok" | 401 | 403;

interface Case {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** Who may; everyone else with a valid token gets 403, and without one 401. */
  readonly allowed: readonly Role[];
  /** Routes that need no token at all. */
  readonly open?: boolean;
}

const ADMIN_ONLY: Role[] = ["admin"];
const ANY_TOKEN: Role[] = ["reader", "provider", "requester", "svc", "reg", "admin"];
const REGISTRY: Role[] = ["reg", "admin"];
const rec = {
  registry_id: "acl-rec",
  registry_url: "http://127.0.0.1:1/",
  registry_search_data: { registry_type: "t" },
};

// The route (as the server lists it) → the requests that exercise it and who may make them.
const DECISIONS: Record<string, Case[]> = {
  "PUT /provider": [
    { method: "PUT", path: "/provider", body: { name: "dev/lamp", value: "off" }, allowed: ["provider", "admin"] },
    { method: "PUT", path: "/provider", body: { name: "app/x", value: 1 }, allowed: ["admin"] },
    { method: "PUT", path: "/provider", body: { name: "_sys/acl/tokens/x", value: 1 }, allowed: ["admin"] },
  ],
  "GET /provider": [
    { method: "GET", path: "/provider?name=dev/lamp&wait=0", allowed: ["provider", "admin"] },
    { method: "GET", path: "/provider?prefix=dev/&wait=0", allowed: ["provider", "admin"] },
    // The "drop every pending request" attack: acknowledging everything needs provide on everything.
    { method: "GET", path: "/provider?prefix=&after=999999999999999&wait=0", allowed: ["admin"] },
  ],
  "DELETE /provider": [{ method: "DELETE", path: "/provider?name=dev/gone", allowed: ["provider", "admin"] }],
  "GET /consumer": [
    { method: "GET", path: "/consumer?name=app/a", allowed: ["reader", "admin"] },
    { method: "GET", path: "/consumer?name=dev/lamp", allowed: ["requester", "admin"] },
    { method: "GET", path: "/consumer?prefix=", allowed: ANY_TOKEN },
    { method: "GET", path: "/consumer?name=_sys/acl/policies/admin", allowed: ["admin"] },
  ],
  "PUT /consumer": [
    { method: "PUT", path: "/consumer", body: { name: "dev/lamp", value: "on" }, allowed: ["requester", "admin"] },
  ],
  // Request 1 (dev/lamp) is made in beforeAll: its outcome is read like the register, reported like a provider.
  "GET /consumer/requests/:id": [{ method: "GET", path: "/consumer/requests/1", allowed: ["requester", "admin"] }],
  "PUT /provider/acks": [
    {
      method: "PUT",
      path: "/provider/acks",
      body: { acks: [{ id: 1, status: "done" }] },
      allowed: ["provider", "admin"],
    },
  ],
  "GET /registers": [{ method: "GET", path: "/registers?prefix=", allowed: ANY_TOKEN }],
  "GET /events": [{ method: "GET", path: "/events?prefix=", allowed: ANY_TOKEN }],
  "GET /healthz": [{ method: "GET", path: "/healthz", allowed: ROLES, open: true }],
  "GET /readyz": [{ method: "GET", path: "/readyz", allowed: ROLES, open: true }],
  "GET /status": [{ method: "GET", path: "/status", allowed: ["admin"] }],
  "GET /metrics": [{ method: "GET", path: "/metrics", allowed: ["admin"] }],
  "GET /openapi.json": [{ method: "GET", path: "/openapi.json", allowed: ["admin"] }],
  "GET /acl/tokens": [{ method: "GET", path: "/acl/tokens", allowed: ADMIN_ONLY }],
  "POST /acl/tokens": [{ method: "POST", path: "/acl/tokens", body: { policies: ["reader"] }, allowed: ADMIN_ONLY }],
  "DELETE /acl/tokens/:id": [{ method: "DELETE", path: "/acl/tokens/0000000000000000", allowed: ADMIN_ONLY }],
  "GET /acl/policies": [{ method: "GET", path: "/acl/policies", allowed: ADMIN_ONLY }],
  "PUT /acl/policies/:name": [
    {
      method: "PUT",
      path: "/acl/policies/scratch",
      body: { rules: [{ prefix: "x/", read: true }] },
      allowed: ADMIN_ONLY,
    },
  ],
  "DELETE /acl/policies/:name": [{ method: "DELETE", path: "/acl/policies/nothing", allowed: ADMIN_ONLY }],
  "POST /services": [
    {
      method: "POST",
      path: "/services",
      body: { type: "web", id: "w1", host: "127.0.0.1", port: 1 },
      allowed: ["svc", "admin"],
    },
  ],
  "GET /services": [{ method: "GET", path: "/services", allowed: ANY_TOKEN }],
  "GET /services/:type": [{ method: "GET", path: "/services/web", allowed: ANY_TOKEN }],
  "GET /services/:type/:id": [{ method: "GET", path: "/services/web/w1", allowed: ["svc", "admin"] }],
  "PUT /services/:type/:id/heartbeat": [
    { method: "PUT", path: "/services/web/w1/heartbeat", allowed: ["svc", "admin"] },
  ],
  "DELETE /services/:type/:id": [{ method: "DELETE", path: "/services/web/gone", allowed: ["svc", "admin"] }],
  "POST /services/:type/:id/check": [{ method: "POST", path: "/services/web/w1/check", allowed: ["svc", "admin"] }],
  // Registry records are checked per record (registries/<id>): reg may write and read registries/acl-* only.
  "POST /registry/health/:id": [
    { method: "POST", path: "/registry/health/acl-none", allowed: REGISTRY },
    { method: "POST", path: "/registry/health/other", allowed: ADMIN_ONLY },
  ],
  "POST /registry/create": [
    { method: "POST", path: "/registry/create", body: rec, allowed: REGISTRY },
    { method: "POST", path: "/registry/create", body: { ...rec, registry_id: "other-x" }, allowed: ADMIN_ONLY },
  ],
  "PUT /registry/update": [
    { method: "PUT", path: "/registry/update", body: { registry_id: "acl-rec", registry_url: "x" }, allowed: REGISTRY },
    {
      method: "PUT",
      path: "/registry/update",
      body: { registry_id: "other-rec", registry_url: "x" },
      allowed: ADMIN_ONLY,
    },
  ],
  "DELETE /registry/delete/:id": [
    { method: "DELETE", path: "/registry/delete/acl-none", allowed: REGISTRY },
    { method: "DELETE", path: "/registry/delete/other-none", allowed: ADMIN_ONLY },
  ],
  "GET /registry/query/by-id/:id": [
    { method: "GET", path: "/registry/query/by-id/acl-rec", allowed: REGISTRY },
    { method: "GET", path: "/registry/query/by-id/other-rec", allowed: ADMIN_ONLY },
  ],
  // Queries answer only the records the token may read (filtered, as prefix reads of registers).
  "GET /registry/query/by-type/:type": [{ method: "GET", path: "/registry/query/by-type/t", allowed: ANY_TOKEN }],
  "POST /registry/query/by-tags": [
    { method: "POST", path: "/registry/query/by-tags", body: { tags: ["a"] }, allowed: ANY_TOKEN },
  ],
  "GET /registry/query/by-url": [{ method: "GET", path: "/registry/query/by-url?fragment=x", allowed: ANY_TOKEN }],
  "POST /registry/query/partial": [
    {
      method: "POST",
      path: "/registry/query/partial",
      body: { field: "registry_url", fragment: "x" },
      allowed: ANY_TOKEN,
    },
  ],
  "POST /registry/query": [{ method: "POST", path: "/registry/query", body: { filter: {} }, allowed: ANY_TOKEN }],
  "GET /registry/search": [{ method: "GET", path: "/registry/search?q=t", allowed: ANY_TOKEN }],
  "POST /registry/upload_zip": [{ method: "POST", path: "/registry/upload_zip", body: {}, allowed: REGISTRY }],
  "GET /registry/upload/status/:taskId": [{ method: "GET", path: "/registry/upload/status/none", allowed: REGISTRY }],
  // Static GraphiQL assets carry no data.
  "GET /graphql/assets/:file": [
    { method: "GET", path: "/graphql/assets/none.js", allowed: ROLES.filter((r) => r !== "wrong") },
  ],
  // The console's page and assets carry no data (it reads everything through the API with the user's token).
  "GET /": [{ method: "GET", path: "/", allowed: ROLES.filter((r) => r !== "wrong") }],
  "GET /ui": [{ method: "GET", path: "/ui", allowed: ROLES.filter((r) => r !== "wrong") }],
  "GET /ui/*": [{ method: "GET", path: "/ui/", allowed: ROLES.filter((r) => r !== "wrong") }],
  "ALL /graphql": [
    // Any token may ask; each field is then decided per name (the GraphQL table below).
    { method: "POST", path: "/graphql", body: { query: "{ __typename }" }, allowed: ANY_TOKEN },
    { method: "GET", path: "/graphql?query=%7B__typename%7D", allowed: ANY_TOKEN },
  ],
};

/** GraphQL over POST /graphql: every root field → operations and who may; the others get FORBIDDEN in errors. */
const JSON_BODY = { "Content-Type": "application/json" };
const READERS: Role[] = ["reader", "admin"];
const PROVIDERS: Role[] = ["provider", "admin"];
const REQUESTERS: Role[] = ["requester", "admin"];
const GQL: Record<string, { query: string; allowed: readonly Role[] }[]> = {
  registryById: [
    { query: `{ registryById(registryId: "acl-rec") { registryId } }`, allowed: REGISTRY },
    { query: `{ registryById(registryId: "other-rec") { registryId } }`, allowed: ADMIN_ONLY },
  ],
  registriesByType: [{ query: `{ registriesByType(registryType: "t") { registryId } }`, allowed: ANY_TOKEN }],
  registriesByTags: [{ query: `{ registriesByTags(tags: ["a"]) { registryId } }`, allowed: ANY_TOKEN }],
  registriesByUrl: [{ query: `{ registriesByUrl(urlFragment: "x") { registryId } }`, allowed: ANY_TOKEN }],
  registriesByFilter: [{ query: `{ registriesByFilter(mongoFilter: "{}") { registryId } }`, allowed: ANY_TOKEN }],
  search: [{ query: `{ search(q: "t") { registryId } }`, allowed: ANY_TOKEN }],
  register: [
    { query: `{ register(name: "app/a") { value } }`, allowed: READERS },
    { query: `{ register(name: "dev/lamp") { value } }`, allowed: REQUESTERS },
    { query: `{ register(name: "_sys/acl/policies/admin") { value } }`, allowed: ADMIN_ONLY },
  ],
  registers: [{ query: `{ registers(prefix: "") { registers { name } } }`, allowed: ANY_TOKEN }],
  services: [{ query: `{ services { id } }`, allowed: ANY_TOKEN }],
  consumerPoll: [
    { query: `{ consumerPoll(names: ["app/a"]) { index } }`, allowed: READERS },
    { query: `{ consumerPoll(prefixes: [""]) { index } }`, allowed: ANY_TOKEN },
  ],
  changeRequests: [{ query: `{ changeRequests(name: "dev/lamp") { id } }`, allowed: REQUESTERS }],
  createRegistry: [
    {
      query: `mutation { createRegistry(registry: { registryId: "acl-g", registryUrl: "http://127.0.0.1:1/", registrySearchData: { registryType: "t" } }) { registryId } }`,
      allowed: REGISTRY,
    },
    {
      query: `mutation { createRegistry(registry: { registryId: "other-g", registryUrl: "http://127.0.0.1:1/", registrySearchData: { registryType: "t" } }) { registryId } }`,
      allowed: ADMIN_ONLY,
    },
  ],
  updateRegistry: [
    {
      query: `mutation { updateRegistry(registry: { registryId: "acl-rec", registryUrl: "y" }) { registryId } }`,
      allowed: REGISTRY,
    },
    {
      query: `mutation { updateRegistry(registry: { registryId: "other-rec", registryUrl: "y" }) { registryId } }`,
      allowed: ADMIN_ONLY,
    },
  ],
  deleteRegistry: [
    { query: `mutation { deleteRegistry(registryId: "acl-none") }`, allowed: REGISTRY },
    { query: `mutation { deleteRegistry(registryId: "other-none") }`, allowed: ADMIN_ONLY },
  ],
  setRegisters: [
    { query: `mutation { setRegisters(registers: [{ name: "dev/g", value: 1 }]) { index } }`, allowed: PROVIDERS },
    { query: `mutation { setRegisters(registers: [{ name: "app/g", value: 1 }]) { index } }`, allowed: ADMIN_ONLY },
  ],
  deleteRegisters: [{ query: `mutation { deleteRegisters(names: ["dev/gone"]) }`, allowed: PROVIDERS }],
  pollRequests: [
    { query: `mutation { pollRequests(names: ["dev/lamp"], waitMs: 0) { index } }`, allowed: PROVIDERS },
    { query: `mutation { pollRequests(prefixes: ["dev/"], waitMs: 0) { index } }`, allowed: PROVIDERS },
    // The "drop every pending request" attack over GraphQL.
    {
      query: `mutation { pollRequests(prefixes: [""], after: 999999999999999, waitMs: 0) { index } }`,
      allowed: ADMIN_ONLY,
    },
  ],
  requestChange: [{ query: `mutation { requestChange(name: "dev/lamp", value: "on") { id } }`, allowed: REQUESTERS }],
  // Subscriptions are exercised over SSE in their own test below (first message: data, or a FORBIDDEN error).
  registerChanged: [],
  registryChanged: [],
};

function expected(c: Case, role: Role): Outcome {
  if (c.open || c.allowed.includes(role)) return "ok";
  return role === "anonymous" || role === "wrong" ? 401 : 403;
}

describe("auth on", () => {
  let srv: TestServer;
  const tokens = new Map<Role, string | undefined>();

  const call = async (
    role: Role,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const h: Record<string, string> = { ...headers };
    const t = tokens.get(role);
    if (t !== undefined) h.Authorization = `Bearer ${t}`;
    const init: RequestInit = { method, headers: h };
    if (body !== undefined) init.body = JSON.stringify(body);
    const controller = new AbortController();
    init.signal = controller.signal;
    const res = await fetch(`${srv.url}${path}`, init);
    // SSE answers stay open: read the status and hang up.
    if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      controller.abort();
      return { status: res.status, body: null };
    }
    const text = await res.text();
    return { status: res.status, body: text ? safeJson(text) : null, headers: res.headers };
  };

  beforeAll(async () => {
    // The table sends a few dozen bad tokens from one address: the failure limit is raised for it.
    srv = await startTestServer({ config: { auth: "on", authFailuresPerMinute: 1000 } });
    const admin = readFileSync(join(srv.dataDir, "admin.token"), "utf8").trim();
    tokens.set("admin", admin);
    tokens.set("anonymous", undefined);
    tokens.set("wrong", `sbt.0123456789abcdef.${"A".repeat(43)}`);
    const policies = {
      reader: [{ prefix: "app/", read: true }],
      provider: [{ prefix: "dev/", write: true, provide: true }],
      requester: [{ prefix: "dev/", read: true, request: true }],
      svc: [{ prefix: "services/web/", read: true, write: true }],
      reg: [{ prefix: "registries/acl-", read: true, write: true }],
    };
    for (const [name, rules] of Object.entries(policies)) {
      expect((await call("admin", "PUT", `/acl/policies/${name}`, { rules })).status).toBe(200);
      const created = await call("admin", "POST", "/acl/tokens", { policies: [name], description: name });
      expect(created.status).toBe(201);
      tokens.set(name as Role, (created.body as { token: string }).token);
    }
    expect(
      (
        await call("admin", "PUT", "/provider", {
          registers: [
            { name: "app/a", value: 1 },
            { name: "dev/lamp", value: "off" },
          ],
        })
      ).status,
    ).toBe(200);
    const other = await call("admin", "POST", "/registry/create", { ...rec, registry_id: "other-rec" });
    expect(other.status).toBe(201);
    const first = await call("admin", "PUT", "/consumer", { name: "dev/lamp", value: "on" });
    expect((first.body as { requests: { id: number }[] }).requests[0]!.id).toBe(1);
  });
  afterAll(async () => {
    await srv.dispose();
  });

  it("has an ACL decision for every route the server serves", () => {
    expect(srv.server.routes().sort()).toEqual(Object.keys(DECISIONS).sort());
  });

  const cases = Object.values(DECISIONS).flatMap((list) =>
    list.flatMap((c) => ROLES.map((role) => ({ ...c, role, want: expected(c, role) }))),
  );
  it.each(cases)("$method $path as $role → $want", async (c) => {
    const r = await call(c.role, c.method, c.path, c.body);
    if (c.want === "ok") expect([401, 403]).not.toContain(r.status);
    else {
      expect(r.status).toBe(c.want);
      expect((r.body as { error: { code: string } }).error.code).toBe(c.want === 401 ? "UNAUTHENTICATED" : "FORBIDDEN");
    }
    if (c.want === 401) expect(r.headers?.get("www-authenticate")).toContain("Bearer");
  });

  it("has an ACL decision for every GraphQL root field", async () => {
    const r = await call(
      "admin",
      "POST",
      "/graphql",
      {
        query:
          "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }",
      },
      JSON_BODY,
    );
    const schema = (r.body as { data: { __schema: Record<string, { fields: { name: string }[] }> } }).data.__schema;
    const fields = Object.values(schema).flatMap((t) => t.fields.map((f) => f.name));
    expect(fields.sort()).toEqual(Object.keys(GQL).sort());
  });

  const gqlCases = Object.entries(GQL).flatMap(([field, list]) =>
    list.flatMap((c) =>
      ROLES.map((role) => ({
        field,
        query: c.query,
        role,
        want: expected({ method: "POST", path: "", allowed: c.allowed }, role),
      })),
    ),
  );
  it.each(gqlCases)("GraphQL $field as $role → $want ($query)", async (c) => {
    const r = await call(c.role, "POST", "/graphql", { query: c.query }, JSON_BODY);
    const codes = ((r.body as { errors?: { extensions?: { code?: string } }[] } | null)?.errors ?? []).map(
      (e) => e.extensions?.code,
    );
    if (c.want === 401) {
      expect(r.status).toBe(401);
      return;
    }
    expect(r.status).toBe(200);
    if (c.want === "ok") {
      expect(codes).not.toContain("FORBIDDEN");
      expect(codes).not.toContain("UNAUTHENTICATED");
    } else expect(codes).toEqual(["FORBIDDEN"]);
  });

  it("filters GraphQL reads to what the token may read, with no hint of the rest", async () => {
    const gql = async (role: Role, query: string) => {
      const r = await call(role, "POST", "/graphql", { query }, JSON_BODY);
      expect(r.status).toBe(200);
      return (r.body as { data: Record<string, any> }).data;
    };
    const listed = await gql("reader", `{ registers(prefix: "") { registers { name } } }`);
    const names = listed.registers.registers.map((x: { name: string }) => x.name);
    expect(names).toContain("app/a");
    expect(names.every((n: string) => n.startsWith("app/"))).toBe(true);
    const polled = await gql("reader", `{ consumerPoll(prefixes: [""]) { registers { name } } }`);
    expect(polled.consumerPoll.registers.every((x: { name: string }) => x.name.startsWith("app/"))).toBe(true);
    const recs = await gql(
      "reg",
      `{ registriesByType(registryType: "t") { registryId } search(q: "t") { registryId } }`,
    );
    for (const list of [recs.registriesByType, recs.search]) {
      const ids = list.map((x: { registryId: string }) => x.registryId);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.every((id: string) => id.startsWith("acl-"))).toBe(true);
    }
    expect((await gql("reader", `{ registriesByType(registryType: "t") { registryId } }`)).registriesByType).toEqual(
      [],
    );
    const all = await gql("admin", `{ registriesByType(registryType: "t") { registryId } }`);
    expect(all.registriesByType.some((x: { registryId: string }) => x.registryId.startsWith("other-"))).toBe(true);
  });

  it("authorizes and filters GraphQL subscriptions per token", async () => {
    const take = async (role: Role, query: string, n: number, during?: () => Promise<void>) => {
      const client = createClient({
        url: `${srv.url}/graphql`,
        retryAttempts: 0,
        headers: { Authorization: `Bearer ${tokens.get(role)}` },
      });
      const out: any[] = [];
      try {
        const it = client.iterate({ query });
        const first = it.next();
        await during?.();
        let next = await first;
        while (!next.done) {
          out.push(next.value);
          if (out.length >= n) break;
          next = await it.next();
        }
        await it.return?.();
      } catch (err) {
        out.push({ thrown: err });
      } finally {
        client.dispose();
      }
      return out;
    };
    const start = srv.server.core.revision;
    // A prefix subscription over everything: the reader sees app/ events only.
    const seen = await take(
      "reader",
      `subscription { registerChanged(prefix: "", after: ${start}) { name } }`,
      1,
      async () => {
        await call("admin", "PUT", "/provider", { registers: [{ name: "dev/hidden", value: 1 }] });
        await call("admin", "PUT", "/provider", { registers: [{ name: "app/shown", value: 1 }] });
      },
    );
    expect(seen.map((x) => x.data?.registerChanged?.name)).toEqual(["app/shown"]);
    // A named register the token may not read is refused.
    const refused = await take("reader", `subscription { registerChanged(names: ["dev/lamp"]) { name } }`, 1);
    expect(JSON.stringify(refused)).toContain("FORBIDDEN");
    const records = await take("reader", `subscription { registryChanged(registryId: "other-rec") { type } }`, 1);
    expect(JSON.stringify(records)).toContain("FORBIDDEN");
  });

  it("filters prefix reads and listings to what the token may read, with no hint of the rest", async () => {
    const read = await call("reader", "GET", "/consumer?prefix=");
    const names = (read.body as { registers: { name: string }[] }).registers.map((r) => r.name);
    expect(names).toContain("app/a");
    expect(names.every((n) => n.startsWith("app/"))).toBe(true);
    const listed = await call("reader", "GET", "/registers?prefix=");
    const listedNames = (listed.body as { registers: { name: string }[] }).registers.map((r) => r.name);
    expect(listedNames).toContain("app/a");
    expect(listedNames.every((n) => n.startsWith("app/"))).toBe(true);
    const all = await call("admin", "GET", "/registers?prefix=");
    expect((all.body as { registers: { name: string }[] }).registers.map((r) => r.name)).toContain(
      "_sys/acl/policies/admin",
    );
  });

  it("answers registry queries with only the records the token may read", async () => {
    expect((await call("admin", "POST", "/registry/create", { ...rec, registry_id: "acl-seen" })).status).toBe(201);
    const ids = async (role: Role, method: string, path: string, body?: unknown) => {
      const r = await call(role, method, path, body);
      expect(r.status).toBe(200);
      return (r.body as { registries: { registry_id: string }[] }).registries.map((x) => x.registry_id);
    };
    for (const [method, path, body] of [
      ["GET", "/registry/query/by-type/t", undefined],
      ["POST", "/registry/query", { filter: {} }],
      ["GET", "/registry/search?q=t", undefined],
      ["GET", "/registry/query/by-url?fragment=127.0.0.1", undefined],
    ] as const) {
      const seen = await ids("reg", method, path, body);
      expect(seen, path).toContain("acl-seen");
      expect(
        seen.every((id) => id.startsWith("acl-")),
        path,
      ).toBe(true);
      expect(await ids("reader", method, path, body), path).toEqual([]);
      const all = await ids("admin", method, path, body);
      expect(all, path).toContain("acl-seen");
      expect(
        all.some((id) => id.startsWith("other-")),
        path,
      ).toBe(true);
    }
    // A limit counts readable records only: one record asked for, one the token may read answered.
    const one = await call("reg", "POST", "/registry/query", { filter: {}, limit: 1 });
    const only = (one.body as { registries: { registry_id: string }[] }).registries.map((x) => x.registry_id);
    expect(only).toHaveLength(1);
    expect(only[0]).toMatch(/^acl-/);
  });

  it("refuses the drop-every-request attack and keeps the pending requests", async () => {
    const made = await call("requester", "PUT", "/consumer", { name: "dev/lamp", value: "on" });
    expect(made.status).toBe(202);
    const id = (made.body as { requests: { id: number }[] }).requests[0]!.id;
    const attack = await call("provider", "GET", "/provider?prefix=&after=999999999999999&wait=0");
    expect(attack.status).toBe(403);
    const pending = await call("provider", "GET", "/provider?name=dev/lamp&wait=0");
    expect((pending.body as { requests: { id: number }[] }).requests.map((r) => r.id)).toContain(id);
  });

  it("a revoked token stops working at once, on held long-polls and open SSE streams too", async () => {
    const created = await call("admin", "POST", "/acl/tokens", { policies: ["reader"] });
    const { token, id } = created.body as { token: string; id: string };
    const auth = { Authorization: `Bearer ${token}` };
    const first = await fetch(`${srv.url}/consumer?name=app/a`, { headers: auth });
    const { index } = (await first.json()) as { index: number };
    const base = srv.server.core.stats().waiters;
    const held = fetch(`${srv.url}/consumer?name=app/a&index=${index}&wait=60s`, { headers: auth });
    const stream = await fetch(`${srv.url}/events?prefix=app/`, { headers: auth });
    expect(stream.status).toBe(200);
    const streamEnded = stream.body!.pipeTo(new WritableStream());
    // Wait until the poll and the stream are held by the server before revoking.
    for (let i = 0; i < 200; i++) {
      const s = (await call("admin", "GET", "/status")).body as { waiters: { consumer: number; stream: number } };
      if (s.waiters.consumer > base.consumer && s.waiters.stream > base.stream) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const t0 = Date.now();
    expect((await call("admin", "DELETE", `/acl/tokens/${id}`)).status).toBe(200);
    const answer = await held;
    expect(answer.status).toBe(401);
    await streamEnded;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await fetch(`${srv.url}/consumer?name=app/a`, { headers: auth })).status).toBe(401);
  });

  it("wrote the bootstrap admin token with mode 0600", () => {
    expect(statSync(join(srv.dataDir, "admin.token")).mode & 0o777).toBe(0o600);
  });

  it("refuses a CORS preflight from a foreign origin by default", async () => {
    const r = await fetch(`${srv.url}/consumer`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "PUT" },
    });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("auth modes and limits", () => {
  it("with auth on, dialects whose wire carries no token listen on loopback only", async () => {
    // ::1 is a loopback address that is not 127.0.0.1, so the two bindings can be told apart.
    const srv = await startTestServer({ config: { auth: "on", host: "::1", proxyPort: 0 } });
    try {
      const byProtocol = new Map(srv.server.listeners.map((l) => [l.protocol, l.host]));
      expect(byProtocol.get("http")).toBe("::1");
      for (const p of ["rpyc", "zmq-req", "jsonrpc", "tcp-proxy"]) expect(byProtocol.get(p), p).toBe("127.0.0.1");
    } finally {
      await srv.dispose();
    }
    const open = await startTestServer({ config: { auth: "off", host: "::1" } });
    try {
      expect(open.server.listeners.find((l) => l.protocol === "rpyc")?.host).toBe("::1");
    } finally {
      await open.dispose();
    }
  });

  it("is off on loopback by default and on when asked; cors-origin * needs auth on", async () => {
    const open = await startTestServer();
    try {
      expect((await fetch(`${open.url}/status`)).status).toBe(200);
    } finally {
      await open.dispose();
    }
    await expect(startTestServer({ config: { corsOrigin: "*" } })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });

  it("imports the admin token from --admin-token-file when it exists", async () => {
    const first = await startTestServer({ config: { auth: "on" } });
    const file = join(first.dataDir, "admin.token");
    const secret = readFileSync(file, "utf8").trim();
    await first.stop();
    const second = await startTestServer({ config: { auth: "on", dataDir: ":memory:", adminTokenFile: file } });
    try {
      const withToken = await fetch(`${second.url}/status`, { headers: { Authorization: `Bearer ${secret}` } });
      expect(withToken.status).toBe(200);
      expect((await fetch(`${second.url}/status`)).status).toBe(401);
    } finally {
      await second.dispose();
      await first.dispose();
    }
  });

  it("rate-limits writes per token and address with 429 and Retry-After", async () => {
    const srv = await startTestServer({ config: { rateLimit: 5 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) {
        const r = await fetch(`${srv.url}/provider`, {
          method: "PUT",
          body: JSON.stringify({ name: "rl/x", value: i }),
        });
        statuses.push(r.status);
        if (r.status === 429) {
          expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
          expect(((await r.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
        } else await r.body?.cancel();
      }
      // A burst of 10 (twice the rate) passes, then the bucket is empty.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10);
      expect(statuses).toContain(429);
    } finally {
      await srv.dispose();
    }
  });

  it("limits failed authentications per address", async () => {
    const srv = await startTestServer({ config: { auth: "on" } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const r = await fetch(`${srv.url}/registers`, {
          headers: { Authorization: `Bearer sbt.0123456789abcdef.${"B".repeat(43)}` },
        });
        statuses.push(r.status);
        await r.body?.cancel();
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.at(-1)).toBe(429);
    } finally {
      await srv.dispose();
    }
  });
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
