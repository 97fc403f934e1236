// The server with --redis-url: verdicts land in the real Redis under the prefix, and a Redis outage degrades to live probes.

import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchange, openRaw } from "../helpers/proxy-client.js";
import { type OwnRedis, startOwnRedis } from "../helpers/redis-server.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { startTcpEcho, type TcpEcho } from "../helpers/targets.js";

let redis: OwnRedis;
let inspector: Redis;
let sb: TestServer;
let echo: TcpEcho;
let port: number;

beforeAll(async () => {
  redis = await startOwnRedis();
  inspector = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  inspector.on("error", () => undefined); // it sees the outage too; the asserts say what matters
  await inspector.connect();
  echo = await startTcpEcho();
  sb = await startTestServer({
    config: { dataDir: ":memory:", healthInterval: 0, redisUrl: redis.url, redisPrefix: "sbtest:", proxyPort: 0 },
  });
  port = sb.server.listeners.find((l) => l.protocol === "tcp-proxy")!.port;
  await sb.server.services.discovery.register({
    type: "echo",
    id: "a",
    endpoint: { host: "127.0.0.1", port: echo.port },
    ttlMs: null,
  });
  // The cache connects in the background; wait (bounded) until it answers.
  for (let i = 0; i < 200 && !sb.server.services.health.cacheState().reachable; i++) await sleep(10);
});
afterAll(async () => {
  await sb.dispose();
  inspector.disconnect();
  await redis.kill();
  await echo.close();
});

async function roundTrip(): Promise<string> {
  const c = await openRaw(port);
  c.socket.write("echo/a\nhello\n");
  const got = (await c.receivedAtLeast(6)).toString();
  c.socket.destroy();
  return got;
}

describe("health cache in Redis", () => {
  it("stores the verdict under the prefix with the cache TTL, and serves the next connection from it", async () => {
    expect(sb.server.services.health.cacheState()).toEqual({ backend: "redis", reachable: true });
    expect(await roundTrip()).toBe("hello\n");
    const raw = await inspector.get("sbtest:health:services/echo/a");
    expect(JSON.parse(raw!)).toMatchObject({ status: "passing" });
    const pttl = await inspector.pttl("sbtest:health:services/echo/a");
    expect(pttl).toBeGreaterThan(8000);
    expect(pttl).toBeLessThanOrEqual(10_000);
    // A verdict written to Redis by another node is honoured: mark it critical there.
    await inspector.set(
      "sbtest:health:services/echo/a",
      JSON.stringify({ ...JSON.parse(raw!), status: "critical", output: "marked down elsewhere" }),
      "PX",
      10_000,
    );
    expect(await exchange(port, "echo/a\n")).toBe("ERR UNHEALTHY echo/a is critical: marked down elsewhere\n");
    await inspector.del("sbtest:health:services/echo/a");
  });

  it("keeps proxying on live probes while Redis is down, and says so in /readyz and /metrics", async () => {
    await redis.kill();
    for (let i = 0; i < 200 && sb.server.services.health.cacheState().reachable; i++) await sleep(10);
    const errorsBefore = await metricValue(sb.url, "switchboard_health_cache_errors_total");
    expect(await roundTrip()).toBe("hello\n");
    expect(await roundTrip()).toBe("hello\n");
    const ready = await fetch(`${sb.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { healthCache: unknown }).healthCache).toEqual({
      backend: "redis",
      reachable: false,
    });
    expect(await metricValue(sb.url, "switchboard_health_cache_up")).toBe(0);
    expect(await metricValue(sb.url, "switchboard_health_cache_errors_total")).toBeGreaterThan(errorsBefore);
    // Discovery answers as usual.
    const list = await fetch(`${sb.url}/services/echo?healthy=true`);
    expect(list.status).toBe(200);
    // Back: the cache is used again.
    await redis.restart();
    for (let i = 0; i < 300 && !sb.server.services.health.cacheState().reachable; i++) await sleep(10);
    await inspector.connect().catch(() => undefined);
    for (let i = 0; i < 300 && inspector.status !== "ready"; i++) await sleep(10);
    expect(await roundTrip()).toBe("hello\n");
    expect(JSON.parse((await inspector.get("sbtest:health:services/echo/a"))!)).toMatchObject({ status: "passing" });
  });
});
