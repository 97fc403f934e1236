// The registry audit: what the protocol audit's set/wake/expire/remove mean for dialects that only register services.

import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A service-registry dialect (RPyC, CGSE, Plexus…) cannot name registers or carry arbitrary values,
 * so the protocol audit's driver does not fit it. What it can do is register an endpoint, renew
 * it, remove it and look it up; the audit checks those against the core as REST sees it, so every
 * dialect's registrations are proven visible to every other client.
 */
export interface RegistryDialectDriver {
  /** Registers a service of `type` listening on `port`; resolves with the register name it maps to. */
  register(type: string, port: number): Promise<string>;
  /** Renews the registration the dialect's own way (a repeated register, a heartbeat…). */
  renew(type: string, port: number): Promise<void>;
  deregister(type: string, port: number): Promise<void>;
  /** The endpoints the dialect's own lookup answers for the type. */
  lookup(type: string): Promise<{ host: string; port: number }[]>;
  /** Sends malformed input; resolves once the server has provably dealt with it. */
  badInput(): Promise<void>;
}

export interface RegistryHarness {
  readonly driver: RegistryDialectDriver;
  /** Base URL of the server's REST port, where the audit watches the registers. */
  readonly url: string;
  /** The lease a registration gets, ms. */
  readonly leaseMs: number;
  /** Moves the server's (fake) clock and runs a TTL sweep. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

interface Poll {
  index: number;
  registers: { name: string; found: boolean; value?: unknown; version?: number; modRevision?: number }[];
}

export function describeRegistryAudit(name: string, start: () => Promise<RegistryHarness>): void {
  describe(`registry audit: ${name}`, () => {
    let h: RegistryHarness;
    let d: RegistryDialectDriver;
    const get = async (query: string): Promise<Poll> => {
      const res = await fetch(`${h.url}/consumer?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as Poll;
    };
    beforeAll(async () => {
      h = await start();
      d = h.driver;
    });
    afterAll(() => h.close());

    it("set: a registration is a register under services/<type>/ holding the endpoint, and the dialect finds it", async () => {
      const reg = await d.register("audit-set", 7101);
      expect(reg).toMatch(/^services\/[^/]+\/[^/]+$/);
      const r = await get(`name=${reg}`);
      expect(r.registers[0]).toMatchObject({ name: reg, found: true, value: expect.objectContaining({ port: 7101 }) });
      expect(await d.lookup("audit-set")).toEqual([expect.objectContaining({ port: 7101 })]);
    });

    it("wake: a REST long-poll on the type's prefix wakes on a registration", async () => {
      const probe = await d.register("audit-wake", 7201);
      const prefix = probe.slice(0, probe.lastIndexOf("/") + 1);
      const { index } = await get(`prefix=${prefix}`);
      const poll = get(`prefix=${prefix}&index=${index}&wait=5m`);
      const reg = await d.register("audit-wake", 7202);
      const woken = await poll;
      expect(woken.index).toBeGreaterThan(index);
      expect(woken.registers.map((r) => r.name)).toContain(reg);
    });

    it("a renewal moves the lease without a revision", async () => {
      const reg = await d.register("audit-renew", 7301);
      const first = (await get(`name=${reg}`)).registers[0];
      await h.advance(h.leaseMs - 1000);
      await d.renew("audit-renew", 7301);
      await h.advance(h.leaseMs - 1000);
      const r = await get(`name=${reg}`);
      // Alive past its first deadline, and the very same revision: the renewal made no change event.
      expect(r.registers[0]).toMatchObject({ found: true, version: 1, modRevision: first?.modRevision });
      expect(await d.lookup("audit-renew")).toHaveLength(1);
    });

    it("expire: a registration not renewed expires, waking its watchers, and the dialect no longer finds it", async () => {
      const reg = await d.register("audit-expire", 7401);
      const { index } = await get(`name=${reg}`);
      const poll = get(`name=${reg}&index=${index}&wait=5m`);
      await h.advance(h.leaseMs + 1);
      expect((await poll).registers[0]).toMatchObject({ name: reg, found: false });
      expect(await d.lookup("audit-expire")).toEqual([]);
    });

    it("remove: a deregistration deletes the register, waking its watchers", async () => {
      const reg = await d.register("audit-remove", 7501);
      const { index } = await get(`name=${reg}`);
      const poll = get(`name=${reg}&index=${index}&wait=5m`);
      await d.deregister("audit-remove", 7501);
      expect((await poll).registers[0]).toMatchObject({ name: reg, found: false });
      expect(await d.lookup("audit-remove")).toEqual([]);
    });

    it("bad input changes nothing", async () => {
      const before = await get("prefix=services/");
      await d.badInput();
      const after = await get("prefix=services/");
      expect(after.index).toBe(before.index);
      expect(after.registers).toEqual(before.registers);
    });
  });
}
