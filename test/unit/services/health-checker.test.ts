// HealthChecker without sockets (lease checks and unusable targets): cache use, shared probes, cache failures, what it publishes.

import { afterEach, describe, expect, it } from "vitest";
import type { HealthCache } from "../../../src/core/ports.js";
import { silentLogger } from "../../../src/logger.js";
import { Discovery } from "../../../src/services/discovery.js";
import { HealthChecker } from "../../../src/services/health/checker.js";
import { createMemoryHealthCache } from "../../../src/storage/memory/health-cache.js";
import { type Board, openBoard } from "../core/fixture.js";

const boards: Board[] = [];
afterEach(async () => {
  for (const b of boards.splice(0)) await b.sb.close();
});

async function setup(cache?: HealthCache) {
  const board = await openBoard();
  boards.push(board);
  const checker = new HealthChecker({
    core: board.sb,
    cache: cache ?? createMemoryHealthCache({ clock: board.clock }),
    log: silentLogger(),
    cacheTtlMs: 10_000,
    timeoutMs: 1000,
  });
  const probes = () => Object.values(checker.stats().probes).reduce((a, b) => a + b, 0);
  return { ...board, checker, probes, discovery: new Discovery(board.sb) };
}

const leased = { host: "h", port: 1, check: "ttl" };

describe("HealthChecker", () => {
  it("answers from the cache inside its TTL and probes after it", async () => {
    const { checker, clock, discovery, probes } = await setup();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    expect(await checker.status("services/a/1")).toMatchObject({ status: "passing" });
    clock.advance(9_999);
    await checker.status("services/a/1");
    expect(probes()).toBe(1);
    clock.advance(2);
    await checker.status("services/a/1");
    expect(probes()).toBe(2);
  });

  it("ignores a cached verdict about another endpoint", async () => {
    const { checker, discovery, probes } = await setup();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    await checker.status("services/a/1");
    await discovery.register({
      type: "a",
      id: "1",
      endpoint: { host: "h", port: 1, health_check_api: "ftp://x/" },
      ttlMs: null,
    });
    expect(await checker.status("services/a/1")).toMatchObject({ status: "critical" });
    expect(probes()).toBe(2);
  });

  it("shares one probe among concurrent askers", async () => {
    const { checker, discovery, probes } = await setup();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    const all = await Promise.all([
      checker.check("services/a/1"),
      checker.check("services/a/1"),
      checker.status("services/a/1"),
    ]);
    expect(all[0]).toBe(all[1]);
    expect(probes()).toBe(1);
  });

  it("probes live when the cache fails, counts it, and reports the cache unreachable until it answers", async () => {
    let failing = true;
    const inner = createMemoryHealthCache({
      clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined },
    });
    const flaky: HealthCache = {
      name: "flaky",
      get: (k) => (failing ? Promise.reject(new Error("down")) : inner.get(k)),
      set: (k, v, t) => (failing ? Promise.reject(new Error("down")) : inner.set(k, v, t)),
      close: () => inner.close(),
    };
    const { checker, discovery, probes } = await setup(flaky);
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    expect(await checker.status("services/a/1")).toMatchObject({ status: "passing" });
    expect(await checker.status("services/a/1")).toMatchObject({ status: "passing" });
    expect(probes()).toBe(2);
    expect(checker.stats().cacheErrors).toBe(4); // a failed read and a failed write per question
    expect(checker.cacheState()).toEqual({ backend: "flaky", reachable: false });
    failing = false;
    await checker.status("services/a/1");
    expect(checker.cacheState().reachable).toBe(true);
    await checker.status("services/a/1");
    expect(probes()).toBe(3); // the second came from the cache again
  });

  it("publishes a status change once, and nothing for a confirmation", async () => {
    const { sb, checker, discovery } = await setup();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    await checker.check("services/a/1");
    const rev = sb.revision;
    const published = sb.get("services/a/1")!.metadata.health;
    await checker.check("services/a/1");
    await checker.check("services/a/1");
    expect(sb.revision).toBe(rev);
    expect(sb.get("services/a/1")!.metadata.health).toEqual(published);
    expect(checker.stats().published).toBe(1);
  });

  it("answers null for registers that are not targets or do not exist", async () => {
    const { sb, checker } = await setup();
    await sb.set([{ name: "plain", value: 1 }]);
    expect(await checker.status("plain")).toBeNull();
    expect(await checker.check("services/a/none")).toBeNull();
  });
});
