// The protocol audit: the same scenarios (set, long-poll wake, timeout, request/ack, bad input) run through every protocol that can express them.

import { afterAll, beforeAll, describe, expect, it } from "vitest";

export interface AuditRegister {
  readonly name: string;
  readonly found: boolean;
  readonly value?: unknown;
  readonly version?: number;
}

/** What a protocol must let a client do, in that protocol's own wire format. */
export interface ProtocolDriver {
  set(registers: { name: string; value: unknown; ttl?: string }[]): Promise<{ index: number }>;
  /** A read (no index) or a long-poll (index + waitMs). */
  read(names: string[], index?: number, waitMs?: number): Promise<{ index: number; registers: AuditRegister[] }>;
  remove(names: string[]): Promise<void>;
  request(name: string, value: unknown): Promise<{ id: number }>;
  pollRequests(names: string[], after: number, waitMs: number): Promise<{ requests: { id: number; value: unknown }[] }>;
  /** Sends the bad input and resolves with the error code the protocol answered (rejects if it was accepted). */
  badInput(kind: "invalid_name" | "value_too_large" | "unknown_register" | "invalid_batch"): Promise<string>;
}

export interface ProtocolHarness {
  readonly driver: ProtocolDriver;
  /** Held long-polls right now (from the server's metrics or core). */
  waiters(): Promise<number>;
  close(): Promise<void>;
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function describeProtocolAudit(name: string, start: () => Promise<ProtocolHarness>): void {
  describe(`protocol audit: ${name}`, () => {
    let h: ProtocolHarness;
    let d: ProtocolDriver;
    beforeAll(async () => {
      h = await start();
      d = h.driver;
    });
    afterAll(async () => {
      await h.close();
    });

    it("sets registers and reads them back, found or not", async () => {
      const { index } = await d.set([
        { name: "audit/a", value: { on: true } },
        { name: "audit/b", value: 2 },
      ]);
      const r = await d.read(["audit/a", "audit/b", "audit/none"]);
      expect(r.index).toBeGreaterThanOrEqual(index);
      expect(r.registers).toEqual([
        expect.objectContaining({ name: "audit/a", found: true, value: { on: true }, version: 1 }),
        expect.objectContaining({ name: "audit/b", found: true, value: 2, version: 1 }),
        expect.objectContaining({ name: "audit/none", found: false }),
      ]);
    });

    it("wakes a long-poll on a change of what it watches, not of anything else", async () => {
      const { index } = await d.set([{ name: "audit/w", value: 0 }]);
      const before = await h.waiters();
      const poll = d.read(["audit/w"], index, 10_000);
      await until(async () => (await h.waiters()) === before + 1, "the poll to be held");
      await d.set([{ name: "audit/other", value: 1 }]);
      await d.set([{ name: "audit/w", value: 1 }]);
      const r = await poll;
      expect(r.registers[0]).toMatchObject({ name: "audit/w", found: true, value: 1, version: 2 });
      expect(r.index).toBeGreaterThan(index);
      expect(await h.waiters()).toBe(before);
    });

    it("answers a poll that times out with the unchanged state", async () => {
      const { index } = await d.set([{ name: "audit/quiet", value: "q" }]);
      const r = await d.read(["audit/quiet"], index, 150);
      expect(r.index).toBe(index);
      expect(r.registers[0]).toMatchObject({ value: "q", version: 1 });
    });

    it("reports a removed register as not found to a poll", async () => {
      const { index } = await d.set([{ name: "audit/gone", value: 1 }]);
      const before = await h.waiters();
      const poll = d.read(["audit/gone"], index, 10_000);
      // Removed while the poll is held, so the wake path (not the at-once answer) is what is checked.
      await until(async () => (await h.waiters()) === before + 1, "the poll to be held");
      await d.remove(["audit/gone"]);
      expect((await poll).registers[0]).toMatchObject({ name: "audit/gone", found: false });
    });

    it("delivers change requests at least once, until acknowledged", async () => {
      await d.set([{ name: "audit/lamp", value: "off" }]);
      const { id } = await d.request("audit/lamp", "on");
      const first = await d.pollRequests(["audit/lamp"], 0, 0);
      expect(first.requests).toEqual([expect.objectContaining({ id, value: "on" })]);
      const again = await d.pollRequests(["audit/lamp"], 0, 0);
      expect(again.requests.map((q) => q.id)).toEqual([id]);
      const acked = await d.pollRequests(["audit/lamp"], id, 0);
      expect(acked.requests).toEqual([]);
    });

    it("wakes a provider poll when a request arrives", async () => {
      await d.set([{ name: "audit/door", value: "closed" }]);
      const before = await h.waiters();
      const poll = d.pollRequests(["audit/door"], 0, 10_000);
      await until(async () => (await h.waiters()) === before + 1, "the provider poll to be held");
      const { id } = await d.request("audit/door", "open");
      expect((await poll).requests).toEqual([expect.objectContaining({ id, value: "open" })]);
    });

    it.each([
      ["invalid_name", "INVALID_NAME"],
      ["value_too_large", "VALUE_TOO_LARGE"],
      ["unknown_register", "REGISTER_NOT_FOUND"],
      ["invalid_batch", "DUPLICATE_NAME"],
    ] as const)("answers bad input (%s) with %s and applies nothing", async (kind, code) => {
      const before = await d.read(["audit/a", "audit/b"]);
      expect(await d.badInput(kind)).toBe(code);
      const after = await d.read(["audit/a", "audit/b"]);
      expect(after.registers).toEqual(before.registers);
      expect(after.index).toBe(before.index);
    });
  });
}
