// The reset race: the new server's revision has passed the client's index when it reconnects; the epoch makes it resync.

import { afterEach, expect, it, vi } from "vitest";
import { SwitchboardClient } from "#client";
import { killChildren, type Relay, startChild, startRelay } from "../../../test/helpers/child-servers.js";
import { makeTempDir, type TempDir } from "../../../test/helpers/temp-dir.js";
import { take } from "./helpers.js";

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
  const d = await makeTempDir("switchboard-client-reset-");
  dirs.push(d);
  return d.path;
}

async function put(url: string, registers: { name: string; value: unknown }[]): Promise<number> {
  const res = await fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify({ registers }) });
  return ((await res.json()) as { index: number }).index;
}

it("subscriptions get the new server's state although its revision passed the client's index", async () => {
  const [first, second] = await Promise.all([startChild(await tempDir()), startChild(await tempDir())]);
  relay = await startRelay(first.port);
  client = new SwitchboardClient({ url: relay.url });
  let index = await put(first.url, [
    { name: "x", value: "from-first" },
    { name: "p/a", value: 1 },
  ]);
  for (let i = 0; i < 5; i++) index = await put(first.url, [{ name: "x", value: `from-first-${i}` }]);
  const x = client.consume("x");
  const p = client.consume({ prefix: "p/" });
  expect(await take(x)).toMatchObject({ value: "from-first-4" });
  expect(await take(p)).toMatchObject({ name: "p/a", value: 1 });
  expect(x.stale).toBe(false);

  // The other server lives another history: x was written early there, and its revision is far ahead.
  await put(second.url, [{ name: "x", value: "from-second" }]);
  let secondIndex = 0;
  for (let i = 0; secondIndex <= index + 10; i++)
    secondIndex = await put(second.url, [{ name: `filler/${i}`, value: i }]);
  expect(secondIndex).toBeGreaterThan(index);

  await first.kill();
  await vi.waitFor(() => expect(x.stale).toBe(true), { timeout: 3_000, interval: 10 });
  relay.target(second.port);

  expect(await take(x)).toMatchObject({ found: true, value: "from-second" });
  expect(await take(p)).toMatchObject({ name: "p/a", found: false });
  expect(x.current).toMatchObject({ value: "from-second" });
  await vi.waitFor(() => expect(x.stale).toBe(false), { timeout: 3_000, interval: 10 });

  // And the poll goes on in the new history: a later change arrives.
  await put(second.url, [{ name: "x", value: "later" }]);
  expect(await take(x)).toMatchObject({ value: "later" });
});
