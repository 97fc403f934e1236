// Wake-latency figures read from a real server's /metrics after a long-poll was woken.

import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { wakeFigures } from "../src/metrics.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
});
afterAll(async () => {
  await srv.dispose();
});

it("reads count, mean and bucket bounds of the wake histogram per kind", async () => {
  const put = (value: number) =>
    fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name: "m/x", value }) });
  await put(1);
  expect(wakeFigures(await (await fetch(`${srv.url}/metrics`)).text())).toEqual([]);
  const poll = fetch(`${srv.url}/consumer?name=m/x&index=1&wait=10s`);
  // The poll is held once the server counts it as a waiter.
  let held = false;
  for (let i = 0; i < 100 && !held; i++) {
    const status = (await (await fetch(`${srv.url}/status`)).json()) as { waiters: { consumer: number } };
    held = status.waiters.consumer === 1;
    if (!held) await new Promise((r) => setTimeout(r, 10));
  }
  expect(held).toBe(true);
  await put(2);
  expect((await poll).status).toBe(200);
  const figures = wakeFigures(await (await fetch(`${srv.url}/metrics`)).text());
  expect(figures).toHaveLength(1);
  const consumer = figures[0]!;
  expect(consumer.kind).toBe("consumer");
  expect(consumer.count).toBe(1);
  expect(consumer.meanMs).toBeGreaterThanOrEqual(0);
  expect(consumer.meanMs).toBeLessThan(1000);
  expect(consumer.p50Ms).not.toBeNull();
  expect(consumer.p99Ms).toBeGreaterThanOrEqual(consumer.p50Ms!);
});
