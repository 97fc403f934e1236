// The writer lease over a KV with compare-and-set: one holder at a time, step-down on a failed renewal, hand-over on stop.

import type { KV } from "@nats-io/kv";
import { afterEach, expect, it } from "vitest";
import { WriterLease } from "../../../src/storage/cluster/lease.js";

/** The KV calls the lease makes, with JetStream's create/update/delete-by-revision semantics. */
class FakeKv {
  value: string | null = null;
  revision = 0;
  refuseUpdates = false;
  async create(_k: string, data: string): Promise<number> {
    if (this.value !== null) throw new Error("wrong last sequence");
    this.value = data;
    return ++this.revision;
  }
  async update(_k: string, data: string, version: number): Promise<number> {
    if (this.refuseUpdates || version !== this.revision) throw new Error("wrong last sequence");
    this.value = data;
    return ++this.revision;
  }
  async delete(_k: string, opts?: { previousSeq?: number }): Promise<void> {
    if (opts?.previousSeq !== undefined && opts.previousSeq !== this.revision) throw new Error("wrong last sequence");
    this.value = null;
    this.revision++;
  }
  async get(): Promise<{ operation: string; string(): string } | null> {
    const v = this.value;
    return v === null ? null : { operation: "PUT", string: () => v };
  }
}

const leases: WriterLease[] = [];
afterEach(async () => {
  for (const l of leases.splice(0)) await l.stop();
});

function lease(kv: FakeKv, nodeId: string, ttlMs = 200) {
  const log: string[] = [];
  let acquired: () => void = () => undefined;
  let lost: () => void = () => undefined;
  const acquiredP = new Promise<void>((r) => {
    acquired = r;
  });
  const lostP = new Promise<void>((r) => {
    lost = r;
  });
  const l = new WriterLease({
    kv: kv as unknown as KV,
    key: "writer",
    nodeId,
    ttlMs,
    onError: () => undefined,
    events: {
      onAcquired: (term) => {
        log.push(`acquired ${term}`);
        acquired();
      },
      onLost: (reason) => {
        log.push(`lost ${reason}`);
        lost();
      },
    },
  });
  leases.push(l);
  return { l, log, acquired: acquiredP, lost: lostP };
}

it("one holder at a time; the other learns who holds it", async () => {
  const kv = new FakeKv();
  const a = lease(kv, "a");
  a.l.start();
  await a.acquired;
  const b = lease(kv, "b");
  b.l.start();
  await new Promise((r) => setTimeout(r, 120)); // two of b's attempts (every TTL/4)
  expect(a.l.held).toBe(true);
  expect(a.l.term).toBe(1);
  expect(b.l.held).toBe(false);
  expect(b.l.holder).toBe("a");
  expect(b.log).toEqual([]);
  expect(kv.revision).toBeGreaterThan(1); // renewed meanwhile
});

it("a failed renewal steps down at once, and a stop hands the lease over", async () => {
  const kv = new FakeKv();
  const a = lease(kv, "a");
  a.l.start();
  await a.acquired;
  kv.refuseUpdates = true;
  await a.lost;
  expect(a.l.held).toBe(false);
  expect(a.log[1]).toMatch(/^lost renewal failed/);

  const kv2 = new FakeKv();
  const c = lease(kv2, "c");
  c.l.start();
  await c.acquired;
  const d = lease(kv2, "d");
  d.l.start();
  await c.l.stop();
  await d.acquired;
  expect(d.l.held).toBe(true);
  expect(d.l.term).toBeGreaterThan(c.l.term);
});
