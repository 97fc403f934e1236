// The TCP proxy over real sockets: byte-for-byte tunnels, every refusal code, health flips within one cache TTL, limits.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../helpers/fake-clock.js";
import { exchange, openRaw } from "../helpers/proxy-client.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { closedPort, type HttpTarget, startHttpTarget, startTcpEcho, type TcpEcho } from "../helpers/targets.js";

function proxyPort(t: TestServer): number {
  const l = t.server.listeners.find((x) => x.protocol === "tcp-proxy");
  if (!l) throw new Error("no proxy listener");
  return l.port;
}

async function put(t: TestServer, name: string, value: unknown) {
  const res = await fetch(`${t.url}/provider`, { method: "PUT", body: JSON.stringify({ name, value }) });
  expect(res.status).toBe(200);
}

describe("tunnels and refusals", () => {
  let sb: TestServer;
  let echo: TcpEcho;
  let port: number;
  beforeAll(async () => {
    echo = await startTcpEcho();
    sb = await startTestServer({
      config: {
        dataDir: ":memory:",
        healthInterval: 0,
        healthTimeout: "500ms",
        proxyPort: 0,
        proxyFirstLineTimeout: "300ms",
        proxyMaxConnections: 1500,
      },
    });
    port = proxyPort(sb);
    await sb.server.services.discovery.register({
      type: "echo",
      id: "a",
      endpoint: { host: "127.0.0.1", port: echo.port },
      ttlMs: null,
    });
    await put(sb, "registries/echo-registry", { registry_url: `tcp://127.0.0.1:${echo.port}` });
    await put(sb, "registries/dead", { registry_url: `tcp://127.0.0.1:${await closedPort()}` });
    await put(sb, "registries/no-endpoint", { registry_id: "no-endpoint" });
  });
  afterAll(async () => {
    await sb.dispose();
    await echo.close();
  });

  it("pipes a service byte for byte, including bytes sent in the same packet as the first line", async () => {
    const payload = randomBytes(1 << 20);
    const c = await openRaw(port);
    // One write: the id line and the first 1000 bytes of data together.
    c.socket.write(Buffer.concat([Buffer.from("echo/a\n"), payload.subarray(0, 1000)]));
    c.socket.end(payload.subarray(1000));
    const got = await c.received;
    expect(got.length).toBe(payload.length);
    expect(got.equals(payload)).toBe(true);
  });

  it("pipes to a registry record's registry_url, with \\r\\n accepted after the id", async () => {
    const c = await openRaw(port);
    c.socket.write("echo-registry\r\nGET /status\n");
    expect((await c.receivedAtLeast(12)).toString()).toBe("GET /status\n");
    c.socket.end();
    await c.received;
  });

  it("refuses an unknown id, an unhealthy target and one without an endpoint, each with one ERR line", async () => {
    expect(await exchange(port, "nope\n")).toMatch(/^ERR REGISTRY_NOT_FOUND no registry or service "nope"\n$/);
    expect(await exchange(port, "echo/missing\n")).toMatch(/^ERR REGISTRY_NOT_FOUND /);
    expect(await exchange(port, "\n")).toMatch(/^ERR REGISTRY_NOT_FOUND /);
    expect(await exchange(port, "bad name!\n")).toMatch(/^ERR REGISTRY_NOT_FOUND /);
    const dead = await exchange(port, "dead\nsome data that must not reach anything\n");
    expect(dead).toMatch(/^ERR UNHEALTHY dead is critical: /);
    expect(dead.split("\n")).toHaveLength(2);
    expect(await exchange(port, "no-endpoint\n")).toMatch(
      /^ERR UNHEALTHY no-endpoint is critical: the record names no/,
    );
    expect(await metricValue(sb.url, "switchboard_proxy_refusals_total", { reason: "UNHEALTHY" })).toBe(2);
  });

  it("refuses a slow first line and an overlong one", async () => {
    const started = Date.now();
    const c = await openRaw(port);
    c.socket.write("echo/a"); // no newline
    expect((await c.received).toString()).toBe("ERR FIRST_LINE_TIMEOUT no target id within 300 ms\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(await exchange(port, "x".repeat(300))).toMatch(/^ERR FIRST_LINE_TOO_LONG /);
    expect(await exchange(port, `${"x".repeat(257)}\n`)).toMatch(/^ERR FIRST_LINE_TOO_LONG /);
  });

  it("carries 1,000 concurrent connections", async () => {
    const before = echo.accepted;
    const conns = await Promise.all(Array.from({ length: 1000 }, () => openRaw(port)));
    const answers = conns.map(async (c, i) => {
      c.socket.write(`echo/a\nconnection ${i}\n`);
      const want = `connection ${i}\n`;
      const got = await c.receivedAtLeast(want.length);
      c.socket.end();
      await c.received;
      return got.toString() === want;
    });
    const ok = await Promise.all(answers);
    expect(ok.filter(Boolean)).toHaveLength(1000);
    expect(echo.accepted - before).toBe(1000);
  }, 20_000);

  it("counts bytes each way", async () => {
    const up = await metricValue(sb.url, "switchboard_proxy_bytes_total", { direction: "up" });
    const down = await metricValue(sb.url, "switchboard_proxy_bytes_total", { direction: "down" });
    expect(up).toBeGreaterThan(1 << 20);
    expect(down).toBeGreaterThan(1 << 20);
  });
});

describe("connection cap and connect failure", () => {
  it("refuses beyond --proxy-max-connections and reports a target that stops listening", async () => {
    const echo = await startTcpEcho();
    const sb = await startTestServer({
      config: { dataDir: ":memory:", healthInterval: 0, proxyPort: 0, proxyMaxConnections: 2 },
    });
    try {
      const port = proxyPort(sb);
      const held = [await openRaw(port), await openRaw(port)];
      expect(await exchange(port, "x\n")).toMatch(/^ERR TOO_MANY_CONNECTIONS the proxy holds 2 connections\n$/);
      for (const h of held) h.socket.destroy();
      await Promise.all(held.map((h) => h.received));
      // Healthy in the cache, but gone by the time the proxy connects.
      await put(sb, "registries/flaky", { registry_url: `tcp://127.0.0.1:${echo.port}` });
      expect((await fetch(`${sb.url}/registry/health/flaky`, { method: "POST" })).status).toBe(200);
      await echo.close();
      expect(await exchange(port, "flaky\n")).toMatch(/^ERR CONNECT_FAILED cannot connect to flaky at 127\.0\.0\.1:/);
    } finally {
      await sb.dispose();
    }
  });
});

describe("idle timeout and shutdown", () => {
  it("closes a tunnel idle for --proxy-idle-timeout, and cuts open tunnels at the shutdown deadline", async () => {
    const echo = await startTcpEcho();
    const sb = await startTestServer({
      config: {
        dataDir: ":memory:",
        healthInterval: 0,
        proxyPort: 0,
        proxyIdleTimeout: "200ms",
        shutdownTimeout: "300ms",
      },
    });
    try {
      const port = proxyPort(sb);
      await sb.server.services.discovery.register({
        type: "echo",
        id: "a",
        endpoint: { host: "127.0.0.1", port: echo.port },
        ttlMs: null,
      });
      const idle = await openRaw(port);
      idle.socket.write("echo/a\nhi");
      expect((await idle.receivedAtLeast(2)).toString()).toBe("hi");
      const started = Date.now();
      expect((await idle.received).toString()).toBe("hi");
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);

      // A busy tunnel outlives the idle timeout but not the shutdown deadline.
      const busy = await openRaw(port);
      busy.socket.write("echo/a\n.");
      await busy.receivedAtLeast(1);
      const ticker = setInterval(() => busy.socket.write("."), 50);
      try {
        const stopAt = Date.now();
        const stopping = sb.stop();
        const got = await busy.received;
        expect(Date.now() - stopAt).toBeGreaterThanOrEqual(250);
        expect(got.length).toBeGreaterThan(3);
        await stopping;
      } finally {
        clearInterval(ticker);
      }
    } finally {
      await sb.dispose();
      await echo.close();
    }
  });
});

describe("health flips within one cache TTL (injected clock)", () => {
  let sb: TestServer;
  let health: HttpTarget;
  let echo: TcpEcho;
  const clock = new FakeClock(Date.now());
  beforeAll(async () => {
    health = await startHttpTarget();
    echo = await startTcpEcho();
    sb = await startTestServer({
      clock,
      config: { dataDir: ":memory:", healthInterval: 0, healthCacheTtl: "10s", proxyPort: 0 },
    });
    await put(sb, "registries/r", { registry_url: `tcp://127.0.0.1:${echo.port}`, health_check_api: health.url });
  });
  afterAll(async () => {
    await sb.dispose();
    await health.close();
    await echo.close();
  });

  it("serves from the cache inside the TTL and re-probes after it", async () => {
    const port = proxyPort(sb);
    const c = await openRaw(port);
    c.socket.write("r\nping\n");
    expect((await c.receivedAtLeast(5)).toString()).toBe("ping\n");
    c.socket.destroy();
    expect(health.hits).toBe(1);
    health.status = 503;
    // Inside the TTL the cached verdict stands: no probe, still proxied.
    clock.advance(9000);
    const again = await openRaw(port);
    again.socket.write("r\nping\n");
    expect((await again.receivedAtLeast(5)).toString()).toBe("ping\n");
    again.socket.destroy();
    expect(health.hits).toBe(1);
    // Past it, a live probe sees the flip: refused, and metadata.health and the record say so.
    clock.advance(1001);
    expect(await exchange(port, "r\n")).toMatch(/^ERR UNHEALTHY r is critical: HTTP 503: down\n$/);
    expect(health.hits).toBe(2);
    const reg = sb.server.core.get("registries/r")!;
    expect(reg.metadata.health).toMatchObject({ status: "critical", output: "HTTP 503: down" });
  });
});
