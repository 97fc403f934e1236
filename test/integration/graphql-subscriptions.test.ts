// GraphQL subscriptions over Server-Sent Events (graphql-sse's own client): live changes, resume with `after`, resync, coded errors.

import { createClient } from "graphql-sse";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:", eventRingSize: 50 } });
});
afterAll(async () => {
  await srv.dispose();
});

const client = () => createClient({ url: `${srv.url}/graphql`, retryAttempts: 0 });

async function put(name: string, value: unknown) {
  const res = await fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name, value }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { index: number }).index;
}

/** Takes `n` items of a subscription, then ends it (the iterator's return closes the stream). */
async function take(query: string, n: number): Promise<any[]> {
  const c = client();
  const it = c.iterate({ query });
  const out: any[] = [];
  try {
    for await (const result of it) {
      out.push(result);
      if (out.length >= n) break;
    }
  } finally {
    c.dispose();
  }
  return out;
}

it("delivers register changes and resumes after a reconnect with after", async () => {
  // Other modules may hold streams of their own (the ZeroMQ PUB feed): count only what this test adds.
  const baseStreams = srv.server.core.stats().waiters.stream;
  const start = srv.server.core.revision;
  const live = take(
    `subscription { registerChanged(prefix: "lamp/", after: ${start}) { type name revision register { value } } }`,
    2,
  );
  const r1 = await put("lamp/a", 1);
  await put("other/x", 0);
  const r2 = await put("lamp/b", 2);
  const got = await live;
  expect(got.map((r) => r.data.registerChanged)).toEqual([
    { type: "set", name: "lamp/a", revision: r1, register: { value: 1 } },
    { type: "set", name: "lamp/b", revision: r2, register: { value: 2 } },
  ]);
  // While nobody listens, one more change; a new subscription resuming after r2 gets exactly it.
  const r3 = await put("lamp/a", 3);
  const resumed = await take(
    `subscription { registerChanged(names: ["lamp/a"], after: ${r2}) { type revision register { value } } }`,
    1,
  );
  expect(resumed[0].data.registerChanged).toEqual({ type: "set", revision: r3, register: { value: 3 } });
  // Every stream was released (they count against the waiter limit).
  await expect.poll(() => srv.server.core.stats().waiters.stream).toBe(baseStreams);
});

it("sends resync when `after` is older than the event ring", async () => {
  for (let i = 0; i < 60; i++) await put(`fill/${i}`, i);
  const [first] = await take(`subscription { registerChanged(after: 1) { type revision } }`, 1);
  expect(first.data.registerChanged).toEqual({ type: "resync", revision: srv.server.core.revision });
});

it("delivers registry record changes in the seed's camelCase shape", async () => {
  const start = srv.server.core.revision;
  const live = take(
    `subscription { registryChanged(after: ${start}) { type registryId registry { registryUrl registrySearchData { registryType } } } }`,
    2,
  );
  await fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name: "unrelated", value: 1 }) });
  expect(
    (
      await fetch(`${srv.url}/registry/create`, {
        method: "POST",
        body: JSON.stringify({
          registry_id: "sub-1",
          registry_url: "https://s",
          registry_search_data: { registry_type: "tool" },
        }),
      })
    ).status,
  ).toBe(201);
  expect((await fetch(`${srv.url}/registry/delete/sub-1`, { method: "DELETE" })).status).toBe(200);
  const got = await live;
  expect(got.map((r) => r.data.registryChanged)).toEqual([
    {
      type: "set",
      registryId: "sub-1",
      registry: { registryUrl: "https://s", registrySearchData: { registryType: "tool" } },
    },
    { type: "delete", registryId: "sub-1", registry: null },
  ]);
});

it("answers bad subscriptions with coded errors", async () => {
  const c = client();
  try {
    const bad = c.iterate({ query: `subscription { registerChanged(after: -1) { type } }` });
    const first = await bad.next();
    expect((first.value as any).errors[0].extensions.code).toBe("INVALID_INDEX");
  } finally {
    c.dispose();
  }
  const res = await fetch(`${srv.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify({ query: "subscription {" }),
  });
  expect(res.status).toBeLessThan(500);
});
