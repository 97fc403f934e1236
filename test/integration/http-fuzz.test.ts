// Property-based fuzzing of the HTTP surface (fast-check, 2,000 cases): never a 5xx, and every error in the one
// JSON shape with a documented code.

import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ERROR_CODES } from "../../src/core/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  // Short waits so that no generated poll is held for long; a wait past maxWait is a coded 400.
  srv = await startTestServer({ config: { dataDir: ":memory:", defaultWait: "5ms", maxWait: "20ms" } });
  await fetch(`${srv.url}/provider`, {
    method: "PUT",
    body: JSON.stringify({
      registers: [
        { name: "f/a", value: 1 },
        { name: "f/b", value: { x: [1, 2] } },
      ],
    }),
  });
});
afterAll(async () => {
  await srv.dispose();
});

const PATHS = ["/provider", "/consumer", "/registers", "/events", "/healthz", "/readyz", "/status", "/openapi.json"];
const KEYS = ["name", "prefix", "index", "after", "wait", "limit", "cursor"];
const token = fc.oneof(
  fc.constantFrom("f/a", "f/b", "f/", "", "0", "1", "5ms", "1h", "-1", "abc", "%ZZ", "a".repeat(300), "9".repeat(20)),
  fc.string({ maxLength: 12 }),
);
const query = fc
  .array(fc.tuple(fc.constantFrom(...KEYS), token), { maxLength: 6 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&"));
const path = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `/${encodeURIComponent(s)}`) },
);
const entry = fc.record(
  {
    name: fc.oneof(fc.constantFrom("f/a", "f/c", "", "bad name!"), fc.string({ maxLength: 8 }), fc.integer()),
    value: fc.jsonValue({ maxDepth: 3 }),
    metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })), fc.jsonValue()),
    ttl: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.constantFrom("1s", "banana", null, true, "-3s")),
    requester: fc.oneof(fc.string({ maxLength: 5 }), fc.integer()),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.constant(undefined),
  entry.map((e) => JSON.stringify(e)),
  fc.array(entry, { maxLength: 4 }).map((registers) => JSON.stringify({ registers })),
  fc.array(entry, { maxLength: 4 }).map((requests) => JSON.stringify({ requests })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 30 }),
);

it("2,000 random requests: no 5xx, every error is {error: {code, message}} with a documented code", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom("GET", "PUT", "POST", "DELETE"), path, query, body, async (method, p, q, b) => {
      const ac = new AbortController();
      const init: RequestInit = { method, signal: ac.signal };
      if (b !== undefined && method !== "GET") init.body = b;
      const res = await fetch(`${srv.url}${p}${q ? `?${q}` : ""}`, init);
      if (res.headers.get("content-type")?.includes("text/event-stream")) {
        ac.abort();
        expect(res.status).toBe(200);
        return;
      }
      const text = await res.text();
      expect(res.status, `${method} ${p}?${q} → ${text}`).toBeLessThan(500);
      if (res.status >= 400) {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: unknown } };
        expect(Object.keys(ERROR_CODES)).toContain(parsed.error?.code);
        expect(typeof parsed.error?.message).toBe("string");
      }
    }),
    { numRuns: 2000 },
  );
}, 60_000);
