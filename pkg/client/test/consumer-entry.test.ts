// The consumer-only entry point: a bundle of it leaves the provider code out, and it works on its own.

import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwitchboardConsumer } from "#src/consumer.js";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [new URL(entry, import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.dispose();
});

describe("@switchboard/client/consumer", () => {
  it("bundles without the provider side", async () => {
    const [consumer, full] = await Promise.all([bundle("../src/consumer.ts"), bundle("../src/index.ts")]);
    for (const name of ["ProviderHub", "ProvisionImpl", "Writer", "refreshDue"]) {
      expect(full).toContain(name);
      expect(consumer).not.toContain(name);
    }
    expect(consumer.length).toBeLessThan(full.length * 0.8);
  });

  it("subscribes, reads and requests changes", async () => {
    await fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name: "ce/a", value: 1 }) });
    const client = new SwitchboardConsumer({ url: srv.url });
    const sub = client.consume("ce/a");
    expect(await take(sub)).toMatchObject({ found: true, value: 1 });
    expect(await client.get("ce/a")).toMatchObject({ value: 1 });
    const receipt = await sub.request(2);
    expect(receipt).toMatchObject({ name: "ce/a" });
    expect(client.state).toBe("connected");
    await client.close();
    expect(client.state).toBe("closed");
  });
});
