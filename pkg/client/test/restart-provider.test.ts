// A provider across a SIGKILL and a restart on an EMPTY data dir: its registers come back whole and no request is lost.

import { afterEach, expect, it, vi } from "vitest";
import { type ConnectionState, SwitchboardClient } from "#client";
import { killChildren, type Relay, startChild, startRelay } from "../../../test/helpers/child-servers.js";
import { makeTempDir, type TempDir } from "../../../test/helpers/temp-dir.js";

const dirs: TempDir[] = [];
let client: SwitchboardClient | undefined;
let relay: Relay | undefined;
afterEach(async () => {
  await client?.close();
  await relay?.close();
  await killChildren();
  for (const d of dirs.splice(0)) await d.cleanup();
});

async function tempDir(): Promise<string> {
  const d = await makeTempDir("switchboard-client-restart-");
  dirs.push(d);
  return d.path;
}

async function request(url: string, name: string, value: string): Promise<number> {
  const res = await fetch(`${url}/consumer`, { method: "PUT", body: JSON.stringify({ name, value }) });
  return res.status;
}

async function read(url: string, names: string[]): Promise<any[]> {
  const res = await fetch(`${url}/consumer?${names.map((n) => `name=${n}`).join("&")}`);
  return ((await res.json()) as { registers: any[] }).registers;
}

it("receives every request accepted after an empty-data-dir restart, and re-creates its registers with metadata", async () => {
  // The second server, on an empty data dir, is started now: a cold start takes seconds.
  const [first, second] = await Promise.all([startChild(await tempDir()), startChild(await tempDir())]);
  relay = await startRelay(first.port);
  // Default backoff and waits: what an app gets without tuning.
  client = new SwitchboardClient({ url: relay.url });
  const states: ConnectionState[] = [];
  client.onStateChange((s) => states.push(s.state));
  const epochs: string[] = [];
  client.onEpochChange((epoch) => epochs.push(epoch));
  const lamp = client.provide("dev/lamp", "off", { ttl: "30s", metadata: { kind: "lamp" } });
  const plug = client.provide("dev/plug", "off", { metadata: { kind: "plug" } }); // no TTL
  await Promise.all([lamp.ready, plug.ready]);
  const received: string[] = [];
  void (async () => {
    for await (const r of lamp.requests) received.push(r.value as string);
  })();

  // Push the provider's watermark well above what a fresh server will hand out.
  for (let i = 0; i < 40; i++) expect(await request(first.url, "dev/lamp", `a${i}`)).toBe(202);
  await vi.waitFor(() => expect(received).toHaveLength(40), { timeout: 5_000, interval: 20 });
  const oldEpoch = client.status.epoch;

  await first.kill();
  relay.target(second.port);

  // The client notices the new history and puts both registers back, metadata included.
  await vi.waitFor(
    async () =>
      expect(await read(second.url, ["dev/lamp", "dev/plug"])).toEqual([
        expect.objectContaining({ found: true, value: "off", metadata: { kind: "lamp" } }),
        expect.objectContaining({ found: true, value: "off", metadata: { kind: "plug" }, expiresAt: null }),
      ]),
    { timeout: 6_000, interval: 50 },
  );
  for (let i = 0; i < 20; i++) expect(await request(second.url, "dev/lamp", `b${i}`)).toBe(202);
  const after = Array.from({ length: 20 }, (_, i) => `b${i}`);
  await vi.waitFor(() => expect(received).toEqual(expect.arrayContaining(after)), { timeout: 6_000, interval: 20 });

  expect(epochs).toHaveLength(1);
  expect(epochs[0]).not.toBe(oldEpoch);
  expect(client.state).toBe("connected");
  expect(states).toContain("reconnecting");
  // Nothing is pending on the new server once handled: the provider acknowledges in its new history.
  await vi.waitFor(
    async () => {
      const res = await fetch(`${second.url}/provider?name=dev/lamp&wait=0`);
      expect(((await res.json()) as { requests: unknown[] }).requests).toEqual([]);
    },
    { timeout: 5_000, interval: 50 },
  );
});
