// TTL devices across outages: retries never sleep past the lease, and every lease is refreshed when the server is back.

import { afterEach, expect, it, vi } from "vitest";
import { type Provision, SwitchboardClient } from "#client";
import { type Relay, startRelay } from "../../../test/helpers/child-servers.js";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";

let srv: TestServer | undefined;
let relay: Relay | undefined;
const clients: SwitchboardClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await relay?.close();
  await srv?.dispose();
});

// The field case was TTL 10 s and a 3 s outage; scaled down so that a run takes seconds.
// SWITCHBOARD_SOAK_RUNS=20 SWITCHBOARD_SOAK_TTL_MS=10000 runs it at full scale.
const RUNS = Number(process.env.SWITCHBOARD_SOAK_RUNS ?? 2);
const TTL_MS = Number(process.env.SWITCHBOARD_SOAK_TTL_MS ?? 3_000);
const DEVICES = 20;

interface Registered {
  name: string;
  createRevision: number;
}

async function registers(url: string, prefix: string): Promise<Registered[]> {
  const res = await fetch(`${url}/consumer?prefix=${prefix}`);
  return ((await res.json()) as { registers: Registered[] }).registers;
}

it(`${DEVICES} devices with a ${TTL_MS} ms TTL survive a network outage of 40 % of it, ${RUNS} runs in a row`, async () => {
  // The server stays up and keeps sweeping: only the devices' own refreshes keep their registers.
  srv = await startTestServer({ config: { sweepInterval: "50ms" } });
  relay = await startRelay(srv.port);
  let expiries = 0;
  for (let run = 0; run < RUNS; run++) {
    // Worst-case jitter (every backoff at its ceiling): the schedule that used to run past the deadline.
    const device = new SwitchboardClient({ url: relay.url, random: () => 0.99 });
    clients.push(device);
    const prefix = `run${run}/`;
    const provisions: Provision[] = [];
    for (let i = 0; i < DEVICES; i++) provisions.push(device.provide(`${prefix}${i}`, i, { ttl: `${TTL_MS}ms` }));
    await Promise.all(provisions.map((p) => p.ready));
    const start = Date.now();
    const before = await registers(srv.url, prefix);
    expect(before).toHaveLength(DEVICES);

    // Down just before the refresh at half the TTL, back well after it.
    await sleep(start + TTL_MS * 0.4 - Date.now());
    relay.target(null);
    await sleep(start + TTL_MS * 0.8 - Date.now());
    expect(device.state).toBe("reconnecting");
    expect(device.status.nextAttemptAt).toBeGreaterThan(Date.now() - 1);
    relay.target(srv.port);

    // Past the first deadline: every register was refreshed in time, none expired and came back.
    await sleep(start + TTL_MS * 1.2 - Date.now());
    const after = await registers(srv.url, prefix);
    for (const r of before) {
      const now = after.find((a) => a.name === r.name);
      if (now?.createRevision !== r.createRevision) expiries++;
    }
    await device.close();
  }
  expect(expiries).toBe(0);
});

it("after an outage, refreshes every TTL at once when the server answers again", async () => {
  srv = await startTestServer();
  relay = await startRelay(srv.port);
  const device = new SwitchboardClient({ url: relay.url, random: () => 0.99, providerWait: "500ms" });
  clients.push(device);
  const p = device.provide("lease/a", 1, { ttl: "60s" });
  await p.ready;
  const first = (await registers(srv.url, "lease/"))[0] as unknown as { expiresAt: string };
  relay.target(null);
  // The provider poll fails and backs off; its refresh is not due for 30 s.
  await vi.waitFor(() => expect(device.state).toBe("reconnecting"), { timeout: 3_000, interval: 10 });
  relay.target(srv.port);
  await vi.waitFor(
    async () => {
      const now = (await registers(srv!.url, "lease/"))[0] as unknown as { expiresAt: string };
      expect(Date.parse(now.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
    },
    { timeout: 4_000, interval: 50 },
  );
  expect(device.state).toBe("connected");
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
