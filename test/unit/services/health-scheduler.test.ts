// The health schedule on a fake clock, with lease (ttl) checks so no socket is involved: who is checked when, and what it publishes.

import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../src/logger.js";
import { Discovery } from "../../../src/services/discovery.js";
import { HealthChecker } from "../../../src/services/health/checker.js";
import { HealthScheduler } from "../../../src/services/health/scheduler.js";
import { createMemoryHealthCache } from "../../../src/storage/memory/health-cache.js";
import { flush } from "../../helpers/flush.js";
import { advance, type Board, openBoard } from "../core/fixture.js";

const boards: Board[] = [];
const schedulers: HealthScheduler[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
  for (const b of boards.splice(0)) await b.sb.close();
});

async function setup(options: { random?: () => number } = {}) {
  const board = await openBoard();
  boards.push(board);
  const { sb, clock } = board;
  const checker = new HealthChecker({
    core: sb,
    cache: createMemoryHealthCache({ clock }),
    log: silentLogger(),
    cacheTtlMs: 10_000,
    timeoutMs: 1000,
  });
  const scheduler = new HealthScheduler({
    core: sb,
    checker,
    clock,
    intervalMs: 10_000,
    concurrency: 2,
    random: options.random ?? (() => 0.5),
  });
  schedulers.push(scheduler);
  const discovery = new Discovery(sb);
  const probes = () => Object.values(checker.stats().probes).reduce((a, b) => a + b, 0);
  return { ...board, checker, scheduler, discovery, probes };
}

const leased = { host: "h", port: 1, check: "ttl" };

describe("HealthScheduler", () => {
  it("spreads existing targets over one period at start, then checks each every period", async () => {
    let r = 0;
    const spread = [0.1, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const { sb, clock, scheduler, discovery, probes } = await setup({ random: () => spread[r++ % spread.length]! });
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    await sb.set([{ name: "registries/r", value: { health_check_api: "ftp://nowhere/" } }]);
    await sb.set([{ name: "other/x", value: 1 }]);
    scheduler.start();
    expect(scheduler.size).toBe(2); // the plain register is no target
    await advance(clock, 1000, 500);
    expect(probes()).toBe(1); // first due at 1 s (0.1 × 10 s)
    await advance(clock, 5000, 500);
    expect(probes()).toBe(2); // second due at 6 s
    await advance(clock, 10_000, 500);
    expect(probes()).toBe(4); // each again one period later
    expect(sb.get("services/a/1")!.metadata.health).toMatchObject({ status: "passing" });
    expect(sb.get("registries/r")!.metadata.health).toMatchObject({ status: "critical" });
  });

  it("checks a new target at once, and publishing its health does not trigger another check", async () => {
    const { sb, clock, scheduler, discovery, probes, checker } = await setup();
    scheduler.start();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    clock.advance(0);
    await flush();
    await flush();
    expect(probes()).toBe(1);
    expect(checker.stats().published).toBe(1);
    const rev = sb.revision;
    // The publish was a set event on the same target: no new check until the period.
    await advance(clock, 8000, 1000);
    expect(probes()).toBe(1);
    // Confirming checks publish nothing: no revision over several periods.
    await advance(clock, 30_000, 1000);
    expect(probes()).toBe(4);
    expect(sb.revision).toBe(rev);
    expect(checker.stats().published).toBe(1);
  });

  it("re-checks at once when the endpoint changes, and forgets a deregistered target", async () => {
    const { clock, scheduler, discovery, probes } = await setup();
    scheduler.start();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    clock.advance(0);
    await flush();
    await flush();
    expect(probes()).toBe(1);
    await discovery.register({ type: "a", id: "1", endpoint: { ...leased, port: 2 }, ttlMs: null });
    clock.advance(0);
    await flush();
    await flush();
    expect(probes()).toBe(2);
    await discovery.deregister("a", "1");
    expect(scheduler.size).toBe(0);
    await advance(clock, 30_000, 1000);
    expect(probes()).toBe(2);
  });

  it("leaves no timer behind when stopped", async () => {
    const { clock, scheduler, discovery } = await setup();
    const before = clock.pendingTimers; // the core's sweep
    scheduler.start();
    await discovery.register({ type: "a", id: "1", endpoint: leased, ttlMs: null });
    await discovery.register({ type: "a", id: "2", endpoint: leased, ttlMs: null });
    expect(clock.pendingTimers).toBe(before + 2);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(before);
    expect(scheduler.size).toBe(0);
  });
});
