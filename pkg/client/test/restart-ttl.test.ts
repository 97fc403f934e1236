// TTL devices across a SIGKILL and a cold restart on the same data dir: nothing expires (lease grace + client refresh).

import { afterEach, expect, it, vi } from "vitest";
import { type Provision, SwitchboardClient } from "#client";
import { killChildren, startChild } from "../../../test/helpers/child-servers.js";
import { makeTempDir, type TempDir } from "../../../test/helpers/temp-dir.js";

let dir: TempDir | undefined;
let client: SwitchboardClient | undefined;
afterEach(async () => {
  await client?.close();
  await killChildren();
  await dir?.cleanup();
});

interface Wire {
  name: string;
  createRevision: number;
  expiresAt: string;
}

async function registers(url: string): Promise<Wire[]> {
  const res = await fetch(`${url}/consumer?prefix=dev/`);
  return ((await res.json()) as { registers: Wire[] }).registers;
}

it("20 devices with a 4 s TTL keep their registers across a SIGKILL and a cold restart", async () => {
  dir = await makeTempDir("switchboard-client-ttl-restart-");
  const first = await startChild(dir.path);
  client = new SwitchboardClient({ url: first.url });

  const provisions: Provision[] = [];
  for (let i = 0; i < 20; i++) provisions.push(client.provide(`dev/${i}`, i, { ttl: "4s" }));
  await Promise.all(provisions.map((p) => p.ready));
  const start = Date.now();
  const before = await registers(first.url);
  expect(before).toHaveLength(20);

  // Killed just before the refresh at half the TTL; the cold start on the same dir takes seconds.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + 1_600 - Date.now())));
  await first.kill();
  const second = await startChild(dir.path, first.port);
  const downFor = Date.now() - start - 1_600;

  // The client finds the new process and refreshes every register there (the lease grace gave it
  // time); none was re-created: an expiry followed by a re-creating refresh changes createRevision.
  await vi.waitFor(() => expect(client!.state).toBe("connected"), { timeout: 8_000, interval: 20 });
  const reconnectedAt = Date.now();
  await vi.waitFor(
    async () => {
      const now = await registers(second.url);
      expect(now.map((r) => [r.name, r.createRevision])).toEqual(before.map((r) => [r.name, r.createRevision]));
      for (const r of now) expect(Date.parse(r.expiresAt)).toBeGreaterThanOrEqual(reconnectedAt + 4_000 - 1_000);
    },
    { timeout: 3_000, interval: 50 },
  );
  expect(downFor).toBeGreaterThan(0);
});
