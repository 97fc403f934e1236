// Large reads over HTTP: unpaged prefix reads capped with a coded 413, pages that shrink to fit, a long SSE backlog.

import { afterEach, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.dispose();
  srv = undefined;
});

it("a prefix read larger than --max-response-bytes is 413 RESPONSE_TOO_LARGE; /registers pages through it", async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:", maxResponseBytes: 64 * 1024 } });
  const value = "v".repeat(1000);
  await srv.server.core.set(
    Array.from({ length: 100 }, (_, i) => ({ name: `big/${String(i).padStart(3, "0")}`, value })),
  );

  for (const path of ["/consumer?prefix=big/", "/consumer?prefix=big/&index=1&wait=1s"]) {
    const r = await fetch(`${srv.url}${path}`);
    expect(r.status).toBe(413);
    const body = (await r.json()) as { error: { code: string; message: string; details: { alternative: string } } };
    expect(body.error.code).toBe("RESPONSE_TOO_LARGE");
    expect(body.error.details.alternative).toBe("/registers?prefix=&cursor=");
  }
  // Under the cap, the same read answers in full.
  const small = await fetch(`${srv.url}/consumer?prefix=big/01`);
  expect(((await small.json()) as { registers: unknown[] }).registers).toHaveLength(10);

  const names: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q: string = cursor === null ? "" : `&cursor=${cursor}`;
    const r = await fetch(`${srv.url}/registers?prefix=big/&limit=1000${q}`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text.length).toBeLessThanOrEqual(64 * 1024);
    const page = JSON.parse(text) as { registers: Array<{ name: string }>; cursor: string | null };
    names.push(...page.registers.map((x) => x.name));
    cursor = page.cursor;
    pages += 1;
  } while (cursor !== null && pages < 100);
  expect(names).toHaveLength(100);
  expect(new Set(names).size).toBe(100);
  expect(pages).toBeGreaterThan(1);
});

it("replays an SSE backlog of 130,000 events (past the old ~125k stack limit) in full, in order", async () => {
  const N = 130_000;
  srv = await startTestServer({ config: { dataDir: ":memory:", eventRingSize: 200_000 } });
  for (let b = 0; b < N / 1000; b++) {
    await srv.server.core.set(Array.from({ length: 1000 }, (_, i) => ({ name: `e/${i}`, value: b })));
  }
  const ac = new AbortController();
  const res = await fetch(`${srv.url}/events?prefix=e/&after=0`, { signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let last = 0;
  let count = 0;
  while (count < N) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let end = buf.indexOf("\n\n");
    while (end !== -1) {
      const id = /\nid: (\d+)$/.exec(buf.slice(0, end));
      if (id) {
        const revision = Number(id[1]);
        if (revision !== last + 1) throw new Error(`revision ${revision} after ${last}`);
        last = revision;
        count += 1;
      }
      buf = buf.slice(end + 2);
      end = buf.indexOf("\n\n");
    }
  }
  ac.abort();
  expect(count).toBe(N);
}, 30_000);
