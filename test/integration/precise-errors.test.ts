// Precise errors over HTTP: each body problem gets its documented code and path; a repeated single-valued query
// parameter is INVALID_QUERY instead of being silently resolved.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
});
afterAll(async () => {
  await srv.dispose();
});

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(`${srv.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: r.status, body: (await r.json()) as { error: { code: string; message: string; details?: any } } };
}

describe("body validation", () => {
  it.each([
    ["a negative ttl", { name: "a", value: 1, ttl: -5 }, "TTL_OUT_OF_RANGE", "ttl"],
    ["a ttl that is not a duration", { name: "a", value: 1, ttl: "banana" }, "INVALID_DURATION", "ttl"],
    ["a ttl of the wrong type", { name: "a", value: 1, ttl: true }, "INVALID_DURATION", "ttl"],
    ["a name that is not a string", { name: 5, value: 1 }, "INVALID_NAME", "name"],
    ["a missing value", { name: "a" }, "INVALID_BODY", "value"],
    ["an empty batch", { registers: [] }, "INVALID_BODY", "registers"],
  ])("%s", async (_what, body, code, path) => {
    const r = await call("PUT", "/provider", body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.details[0]).toMatchObject({ path, code });
  });

  it("names the entry of a batch: registers[3].ttl → TTL_OUT_OF_RANGE, and lists every problem", async () => {
    const registers = [
      { name: "b/0", value: 0 },
      { name: "b/1", value: 1 },
      { name: "b/2", value: 2, ttl: "soon" },
      { name: "b/3", value: 3, ttl: -1 },
    ];
    const r = await call("PUT", "/provider", { registers });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("INVALID_DURATION");
    expect(r.body.error.details).toEqual([
      expect.objectContaining({ path: "registers[2].ttl", code: "INVALID_DURATION" }),
      expect.objectContaining({ path: "registers[3].ttl", code: "TTL_OUT_OF_RANGE" }),
    ]);
    const only = await call("PUT", "/provider", { registers: registers.filter((_, i) => i !== 2) });
    expect(only.body.error).toMatchObject({
      code: "TTL_OUT_OF_RANGE",
      message: expect.stringContaining("registers[2].ttl"),
    });
    // Nothing of a rejected batch was applied.
    expect((await call("GET", "/consumer?name=b/0")).body).toMatchObject({ registers: [{ found: false }] });
  });

  it("a change request with a requester that is not a string is INVALID_BODY at requester", async () => {
    await call("PUT", "/provider", { name: "r", value: 0 });
    const r = await call("PUT", "/consumer", { name: "r", value: 1, requester: 5 });
    expect(r.status).toBe(400);
    expect(r.body.error.details[0]).toMatchObject({ path: "requester", code: "INVALID_BODY" });
  });
});

describe("repeated query parameters", () => {
  it.each([
    "/consumer?name=a&index=1&wait=0&wait=10m",
    "/consumer?name=a&index=1&index=2",
    "/provider?name=a&after=1&after=2",
    "/registers?limit=5&limit=6",
    "/registers?prefix=a&prefix=b",
    "/events?prefix=a&prefix=b",
  ])("%s is 400 INVALID_QUERY", async (path) => {
    const r = await call("GET", path);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("INVALID_QUERY");
  });

  it("repeated names and prefixes of a read stay a selection", async () => {
    await call("PUT", "/provider", {
      registers: [
        { name: "q/a", value: 1 },
        { name: "q/b", value: 2 },
      ],
    });
    const r = await fetch(`${srv.url}/consumer?name=q/a&name=q/b`);
    expect(r.status).toBe(200);
  });
});
