// Over real HTTP: TTL expiry wakes consumers and drops requests, expiry while down happens at start, and resyncs.

import { expect, it } from "vitest";
import { systemClock } from "../../src/core/index.js";
import { metricValue, startTestServer } from "../helpers/server.js";

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });

it("by default, gives a register whose deadline passed while down its TTL again from the start", async () => {
  const first = await startTestServer();
  await fetch(`${first.url}/provider`, {
    method: "PUT",
    body: JSON.stringify({ registers: [{ name: "g/dev", value: 1, ttl: "2s" }] }),
  });
  const epoch = ((await (await fetch(`${first.url}/status`)).json()) as { epoch: string }).epoch;
  await first.stop();
  // Back ten seconds later by its clock: the 2 s deadline passed long ago.
  const later = { ...systemClock, now: () => Date.now() + 10_000 };
  const again = await startTestServer({ dataDir: first.dataDir, clock: later });
  try {
    const res = await fetch(`${again.url}/consumer?name=g/dev`);
    expect(res.headers.get("x-switchboard-epoch")).toBe(epoch);
    const body = (await res.json()) as any;
    expect(body.epoch).toBe(epoch);
    expect(body.registers[0]).toMatchObject({ name: "g/dev", found: true, value: 1 });
    const left = Date.parse(body.registers[0].expiresAt) - later.now();
    expect(left).toBeGreaterThan(1_000);
    expect(left).toBeLessThanOrEqual(2_000);
  } finally {
    await again.stop();
    await first.dispose();
  }
});

it("expires a register on its TTL: wakes the consumer with found:false and drops its requests", async () => {
  const srv = await startTestServer({ config: { sweepInterval: "50ms" } });
  try {
    const put = await json(
      await fetch(`${srv.url}/provider`, {
        method: "PUT",
        body: JSON.stringify({ name: "t/x", value: 1, ttl: "300ms" }),
      }),
    );
    await fetch(`${srv.url}/consumer`, { method: "PUT", body: JSON.stringify({ name: "t/x", value: 2 }) });
    expect(await metricValue(srv.url, "switchboard_requests_queued")).toBe(1);
    const t0 = Date.now();
    const poll = await json(await fetch(`${srv.url}/consumer?name=t/x&index=${put.body.index + 1}&wait=10s`));
    const waited = Date.now() - t0;
    expect(poll.body.registers).toEqual([{ name: "t/x", found: false }]);
    // Precision: the deadline plus at most one sweep interval (and some scheduling slack).
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(1500);
    expect(await metricValue(srv.url, "switchboard_requests_queued")).toBe(0);
    const provider = await json(await fetch(`${srv.url}/provider?name=t/x&wait=0`));
    expect(provider.body.requests).toEqual([]);
  } finally {
    await srv.dispose();
  }
});

it("with --ttl-grace 0, expires at start what expired while the server was down, with its event", async () => {
  const first = await startTestServer();
  const put = await json(
    await fetch(`${first.url}/provider`, {
      method: "PUT",
      body: JSON.stringify({
        registers: [
          { name: "d/short", value: 1, ttl: "200ms" },
          { name: "d/keep", value: 2 },
        ],
      }),
    }),
  );
  await first.stop();
  // The server comes back one second later (by its injected clock): the 200 ms deadline passed while it was down.
  const oneSecondLater = { ...systemClock, now: () => Date.now() + 1000 };
  const again = await startTestServer({ dataDir: first.dataDir, clock: oneSecondLater, config: { ttlGrace: 0 } });
  try {
    const now = await json(await fetch(`${again.url}/consumer?name=d/short&name=d/keep`));
    expect(now.body.registers).toEqual([
      { name: "d/short", found: false },
      expect.objectContaining({ name: "d/keep", found: true, value: 2 }),
    ]);
    expect(now.body.index).toBe(put.body.index + 1);
    // A consumer that was watching from before the restart learns of the expiry at once: the
    // expiry happened after the load, so its event is in the ring.
    const poll = await json(await fetch(`${again.url}/consumer?prefix=d/&index=${put.body.index}&wait=5s`));
    expect(poll.body.resync).toBeUndefined();
    expect(poll.body.registers).toEqual(
      expect.arrayContaining([
        { name: "d/short", found: false },
        expect.objectContaining({ name: "d/keep", found: true }),
      ]),
    );
    const events = await fetch(`${again.url}/events?after=${put.body.index}`);
    const reader = events.body!.getReader();
    let text = "";
    while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain("event: expire");
    expect(text).toContain(`id: ${put.body.index + 1}`);
  } finally {
    await again.stop();
    await first.dispose();
  }
});

it("answers resync:true to an index older than the event ring, and an SSE resync event", async () => {
  const srv = await startTestServer({ config: { eventRingSize: 5 } });
  try {
    let index = 0;
    for (let i = 0; i < 10; i++) {
      const r = await json(
        await fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name: `r/${i % 3}`, value: i }) }),
      );
      if (i === 0) index = r.body.index;
    }
    const poll = await json(await fetch(`${srv.url}/consumer?prefix=r/&index=${index}&wait=5s`));
    expect(poll.body.resync).toBe(true);
    expect(poll.body.registers.map((r: any) => [r.name, r.value])).toEqual([
      ["r/0", 9],
      ["r/1", 7],
      ["r/2", 8],
    ]);
    const ahead = await json(await fetch(`${srv.url}/consumer?prefix=r/&index=${poll.body.index + 100}&wait=5s`));
    expect(ahead.body.resync).toBe(true);

    const ac = new AbortController();
    const res = await fetch(`${srv.url}/events?prefix=r/`, {
      headers: { "Last-Event-ID": String(index) },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("\n\n")) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    expect(text).toContain("event: resync");
    expect(text).toContain(`"index":${poll.body.index}`);
  } finally {
    await srv.dispose();
  }
});
