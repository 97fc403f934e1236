// Health probes against real loopback targets (status codes, redirects, body cap, timeouts, TCP, TTL) and the schedule on an injected clock.

import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HealthChecker } from "../../src/services/health/index.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { closedPort, type HttpTarget, startHttpTarget } from "../helpers/targets.js";

async function register(sb: TestServer, id: string, endpoint: Record<string, unknown>) {
  const res = await fetch(`${sb.url}/services`, {
    method: "POST",
    body: JSON.stringify({ type: "t", id, host: "127.0.0.1", port: 1, ...endpoint }),
  });
  expect(res.status).toBe(201);
}

async function check(sb: TestServer, id: string) {
  const res = await fetch(`${sb.url}/services/t/${id}/check`, { method: "POST" });
  expect(res.status).toBe(200);
  return ((await res.json()) as { health: { status: string; output: string; latencyMs: number } }).health;
}

/** Resolves once the checker has run `n` more probes than `from` (bounded). */
async function probesReach(health: HealthChecker, n: number): Promise<void> {
  const total = () => Object.values(health.stats().probes).reduce((a, b) => a + b, 0);
  for (let i = 0; i < 500 && total() < n; i++) await sleep(5);
  expect(total()).toBeGreaterThanOrEqual(n);
}

describe("probes", () => {
  let sb: TestServer;
  let target: HttpTarget;
  beforeAll(async () => {
    target = await startHttpTarget();
    sb = await startTestServer({ config: { dataDir: ":memory:", healthInterval: 0, healthTimeout: "300ms" } });
  });
  afterAll(async () => {
    await sb.dispose();
    await target.close();
  });

  it("reads 2xx as passing, 429 as warning, 5xx as critical", async () => {
    await register(sb, "codes", { health_check_api: target.url });
    for (const [code, status] of [
      [204, "passing"],
      [429, "warning"],
      [500, "critical"],
    ] as const) {
      target.status = code;
      expect((await check(sb, "codes")).status, String(code)).toBe(status);
    }
    target.status = 200;
  });

  it("does not follow a redirect", async () => {
    const elsewhere = await startHttpTarget();
    try {
      target.respond = (res) => {
        res.writeHead(302, { location: elsewhere.url });
        res.end();
      };
      await register(sb, "redirect", { health_check_api: target.url });
      expect(await check(sb, "redirect")).toMatchObject({ status: "critical", output: "HTTP 302" });
      expect(elsewhere.hits).toBe(0);
    } finally {
      target.respond = (res, status) => {
        res.writeHead(status);
        res.end(status < 300 ? "ok" : "down");
      };
      await elsewhere.close();
    }
  });

  it("stops reading the body at 4 KiB: a body that never ends still gives a verdict", async () => {
    let aborted: Promise<void> | undefined;
    target.respond = (res) => {
      res.writeHead(200);
      res.write("y".repeat(5000)); // and never end
      aborted = new Promise((resolve) => res.once("close", () => resolve()));
    };
    try {
      await register(sb, "endless", { health_check_api: target.url });
      const h = await check(sb, "endless");
      expect(h.status).toBe("passing");
      expect(h.output.length).toBeLessThanOrEqual(520);
      expect(h.output.startsWith("HTTP 200: yyyy")).toBe(true);
      await aborted; // the probe hung up instead of waiting for the rest
    } finally {
      target.respond = (res, status) => {
        res.writeHead(status);
        res.end(status < 300 ? "ok" : "down");
      };
    }
  });

  it("gives up after the probe timeout", async () => {
    target.respond = () => undefined; // never answers
    try {
      await register(sb, "silent", { health_check_api: target.url });
      const started = Date.now();
      expect(await check(sb, "silent")).toMatchObject({ status: "critical", output: "timed out after 300 ms" });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      target.respond = (res, status) => {
        res.writeHead(status);
        res.end(status < 300 ? "ok" : "down");
      };
    }
  });

  it("connects over TCP when no health URL is named, and honours check: ttl", async () => {
    await register(sb, "tcp-up", { port: target.port });
    expect(await check(sb, "tcp-up")).toMatchObject({ status: "passing" });
    await register(sb, "tcp-down", { port: await closedPort() });
    expect((await check(sb, "tcp-down")).status).toBe("critical");
    await register(sb, "leased", { check: "ttl", ttl: "30s" });
    expect((await check(sb, "leased")).output).toMatch(/^lease holds until /);
  });

  it("probes only http, https and tcp: other schemes are critical without a connection", async () => {
    await register(sb, "ftp", { health_check_api: "ftp://127.0.0.1/health" });
    expect(await check(sb, "ftp")).toMatchObject({ status: "critical", latencyMs: 0 });
    await register(sb, "garbage", { health_check_api: "not a url" });
    expect((await check(sb, "garbage")).output).toMatch(/^health_check_api is not a URL/);
  });

  it("checks registry records by id, and answers REGISTRY_NOT_FOUND for an unknown one", async () => {
    const put = await fetch(`${sb.url}/provider`, {
      method: "PUT",
      body: JSON.stringify({ name: "registries/reg1", value: { health_check_api: target.url } }),
    });
    expect(put.status).toBe(200);
    const ok = await fetch(`${sb.url}/registry/health/reg1`, { method: "POST" });
    expect(await ok.json()).toMatchObject({ registry_id: "reg1", health: { status: "passing" } });
    const missing = await fetch(`${sb.url}/registry/health/nope`, { method: "POST" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("REGISTRY_NOT_FOUND");
  });
});

describe("schedule (injected clock)", () => {
  it("checks a new service at once, then every period; a flip wakes a long-poll, a confirmation moves nothing", async () => {
    const target = await startHttpTarget();
    const clock = new FakeClock(Date.now());
    const sb = await startTestServer({
      clock,
      config: { dataDir: ":memory:", healthInterval: "10s", healthCacheTtl: "10s" },
    });
    const { health } = sb.server.services;
    try {
      await register(sb, "s", { health_check_api: target.url });
      clock.advance(0); // the first check is due at once
      await probesReach(health, 1);
      const first = await (await fetch(`${sb.url}/services/t?healthy=true`)).json();
      expect((first as { services: unknown[] }).services).toHaveLength(1);
      const index = (first as { index: number }).index;

      target.status = 503;
      clock.advance(8000); // inside the period (≥ 9 s with any jitter): nothing runs
      await sleep(20);
      expect(target.hits).toBe(1);
      const poll = fetch(`${sb.url}/services/t?index=${index}&wait=60s`).then((r) => r.json());
      clock.advance(3000);
      const woke = (await poll) as { index: number; services: { health: { status: string } }[] };
      expect(woke.services[0]!.health.status).toBe("critical");
      expect(target.hits).toBe(2);

      // Another period, same verdict: a probe runs, no revision moves.
      const after = sb.server.core.revision;
      clock.advance(11_000);
      await probesReach(health, 3);
      await sleep(20);
      expect(sb.server.core.revision).toBe(after);
      expect(health.stats().published).toBe(2);
    } finally {
      await sb.dispose();
      await target.close();
    }
  });
});
