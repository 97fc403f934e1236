// The mongo adapter through outages of a MongoDB-wire-compatible server: bounded failures, health, recovery, no lost acks.

import type { CommandStartedEvent } from "mongodb";
import { describe, expect, it } from "vitest";
import { isSwitchboardError } from "../../src/core/errors.js";
import type { MongoPersistence } from "../../src/storage/mongo/index.js";
import { BOUND_MS, reg, rejection, set, useMongoFixture, waitFor } from "./mongo-fixture.js";

const mongo = useMongoFixture();
const open = mongo.open;

describe("mongo persistence: outage and recovery", () => {
  /** Stops the server the moment `p` starts sending the next write to `collection`: an outage mid-commit. */
  function stopServerOnWrite(p: MongoPersistence, collection: string): Promise<void> {
    return new Promise((resolve) => {
      const onStart = (e: CommandStartedEvent): void => {
        if (e.commandName !== "update" || e.command.update !== collection) return;
        p.client.off("commandStarted", onStart);
        resolve(mongo.server.stop());
      };
      p.client.on("commandStarted", onStart);
    });
  }

  it("rejects a commit cut off by an outage within the bound, reports unhealthy, and recovers", async () => {
    const p = open(undefined, true);
    await p.load();
    await waitFor(() => p.isHealthy?.() === true);
    await p.commit([set(reg("a", 1, 1)), set(reg("registries/r", { registry_url: "u" }, 2))]);
    expect(p.wantsCompaction?.()).toBe(false);

    const cutOff = [set(reg("b", 2, 3)), set(reg("registries/s", { registry_url: "v" }, 4))];
    const stopped = stopServerOnWrite(p, "registers");
    const started = Date.now();
    const err = await rejection(p.commit(cutOff));
    const elapsed = Date.now() - started;
    await stopped;
    expect(isSwitchboardError(err) && err.code).toBe("STORAGE_UNAVAILABLE");
    expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 50);
    expect(elapsed).toBeLessThan(BOUND_MS + 1_000);
    expect(p.isHealthy?.()).toBe(false);
    expect(p.wantsCompaction?.()).toBe(true);

    // While the server is down every commit fails within the bound.
    const t1 = Date.now();
    const down = await rejection(p.commit([set(reg("during", 1, 5_000))]));
    expect(isSwitchboardError(down) && down.code).toBe("STORAGE_UNAVAILABLE");
    expect(Date.now() - t1).toBeLessThan(BOUND_MS + 1_000);
    expect(p.isHealthy?.()).toBe(false);

    await mongo.server.restart();
    await waitFor(() => p.isHealthy?.() === true);
    await p.commit(cutOff); // the core's retry of the failed commit, same mutations
    const { snapshot } = await open(p.databaseName).load();
    // Everything acknowledged is there; the commit that failed while down is not.
    expect(snapshot?.registers.map((r) => r.name)).toEqual(["a", "b", "registries/r", "registries/s"]);
    expect(snapshot?.revision).toBe(4);
    const mirror = p.client.db(p.databaseName).collection("registry_core_data");
    expect((await mirror.find({}).sort({ registry_id: 1 }).toArray()).map((d) => d.registry_id)).toEqual(["r", "s"]);
  });

  it("after a failed commit, the compaction it asks for removes whatever Mongo kept of it", async () => {
    const p = open(undefined, true);
    await p.commit([set(reg("a", 1, 1))]);
    const stopped = stopServerOnWrite(p, "registers");
    expect(isSwitchboardError(await rejection(p.commit([set(reg("b", 1, 2))])))).toBe(true);
    await stopped;
    await mongo.server.restart();
    await waitFor(() => p.isHealthy?.() === true);
    // What a server may have applied of a write whose acknowledgement was lost.
    await p.client
      .db(p.databaseName)
      .collection("registers")
      .insertOne({ ...reg("b", 1, 2) });
    expect(p.wantsCompaction?.()).toBe(true);
    await p.compact({ revision: 1, lastRequestId: 0, registers: [reg("a", 1, 1)], requests: [] });
    expect(p.wantsCompaction?.()).toBe(false);
    const { snapshot } = await open(p.databaseName).load();
    expect(snapshot).toEqual({
      revision: 1,
      lastRequestId: 0,
      registers: [reg("a", 1, 1)],
      requests: [],
      outcomes: [],
    });
  });

  it("a store started while the server is down connects once it is up", async () => {
    await mongo.server.stop();
    const p = open();
    const err = await rejection(p.load());
    expect(isSwitchboardError(err) && err.code).toBe("STORAGE_UNAVAILABLE");
    expect(p.isHealthy?.()).toBe(false);
    await mongo.server.restart();
    expect(await p.load()).toEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
    await waitFor(() => p.isHealthy?.() === true);
  });

  it("an idle store notices an outage and the recovery from heartbeats alone", async () => {
    const p = open();
    await p.load();
    await waitFor(() => p.isHealthy?.() === true);
    await mongo.server.stop();
    await waitFor(() => p.isHealthy?.() === false);
    await mongo.server.restart();
    await waitFor(() => p.isHealthy?.() === true);
  });

  it("rejects every call after close()", async () => {
    const p = open();
    await p.commit([set(reg("a", 1, 1))]);
    await p.close();
    const err = await rejection(p.commit([set(reg("b", 1, 2))]));
    expect(isSwitchboardError(err) && err.code).toBe("STORAGE_UNAVAILABLE");
    expect(p.isHealthy?.()).toBe(false);
  });
});
