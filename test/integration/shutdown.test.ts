// Graceful shutdown: held long-polls are answered (not cut), new writes are refused, state is kept.

import { expect, it } from "vitest";
import { metricValue, startTestServer } from "../helpers/server.js";

it("answers held polls on close and keeps every acknowledged write", async () => {
  const srv = await startTestServer();
  try {
    const put = await fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name: "s/x", value: 7 }) });
    const { index } = (await put.json()) as { index: number };
    const polls = Array.from({ length: 5 }, () =>
      fetch(`${srv.url}/consumer?name=s/x&index=${index}&wait=60s`).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      })),
    );
    // All five must be held before the stop, or the test would check at-once answers instead.
    let held = 0;
    for (let i = 0; i < 500 && held < 5; i++) {
      held = await metricValue(srv.url, "switchboard_waiters", { kind: "consumer" });
      if (held < 5) await new Promise((r) => setTimeout(r, 10));
    }
    expect(held).toBe(5);
    const t0 = Date.now();
    await srv.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
    const answered = await Promise.all(polls);
    for (const a of answered) {
      expect(a.status).toBe(200);
      expect(a.body.registers[0]).toMatchObject({ name: "s/x", value: 7 });
    }
    const again = await startTestServer({ dataDir: srv.dataDir });
    try {
      const r = (await (await fetch(`${again.url}/consumer?name=s/x`)).json()) as any;
      expect(r.registers[0]).toMatchObject({ value: 7, version: 1 });
      expect(r.index).toBe(index);
    } finally {
      await again.stop();
    }
  } finally {
    await srv.dispose();
  }
});
