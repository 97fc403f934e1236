// where= over real HTTP: GET /consumer and GET /events wake only for changes that match the filter; bad filters are 400.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, metricValue, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.dispose();
});

const call = (method: string, path: string, body?: unknown) => callJson(srv.url, method, path, body);

const q = (filter: unknown) => encodeURIComponent(JSON.stringify(filter));

/** Waits (bounded) until the server holds at least `n` consumer long-polls. */
async function heldPolls(n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await metricValue(srv.url, "switchboard_waiters", { kind: "consumer" })) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the polls were never held");
}

describe("GET /consumer?where=", () => {
  it("a held poll sleeps through changes that do not match and wakes on one that does", async () => {
    await call("PUT", "/provider", { name: "wh/temp", value: 20, metadata: { unit: "C" } });
    const first = await call("GET", "/consumer?prefix=wh/");
    const where = q({ value: { $gt: 30 } });
    const held = Promise.all(
      Array.from({ length: 20 }, () =>
        call("GET", `/consumer?prefix=wh/&index=${first.body.index}&wait=20s&where=${where}`),
      ),
    );
    await heldPolls(20);
    const before = await metricValue(srv.url, "switchboard_where_evaluations");
    for (const v of [21, 25, 29]) await call("PUT", "/provider", { name: "wh/temp", value: v });
    await call("PUT", "/provider", { name: "wh/other", value: 5 });
    const hot = await call("PUT", "/provider", { name: "wh/temp", value: 31 });
    const answers = await held;
    // Every poll answers the matching change's index: none woke on the four changes before it.
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.index).toBe(hot.body.index);
      expect(a.body.registers.find((r: { name: string }) => r.name === "wh/temp").value).toBe(31);
    }
    // Five changes, one filter: five evaluations for twenty polls.
    expect((await metricValue(srv.url, "switchboard_where_evaluations")) - before).toBe(5);
  });

  it("refuses a forbidden operator, bad JSON and a repeated where with a coded 400", async () => {
    const bad = [
      [`where=${q({ $where: "this.value > 1" })}`, "INVALID_FILTER"],
      [`where=${q({ value: { $function: {} } })}`, "INVALID_FILTER"],
      [`where=${encodeURIComponent("{value:")}`, "INVALID_FILTER"],
      [`where=${q([1])}`, "INVALID_FILTER"],
      [`where=${q({})}&where=${q({})}`, "INVALID_QUERY"],
    ];
    for (const [query, code] of bad) {
      const r = await call("GET", `/consumer?name=wh/temp&${query}`);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(code);
      const e = await fetch(`${srv.url}/events?prefix=wh/&${query}`);
      expect(e.status).toBe(400);
      expect(((await e.json()) as any).error.code).toBe(code);
    }
  });
});

describe("GET /events?where=", () => {
  it("streams only the events whose register matches", async () => {
    const first = await call("PUT", "/provider", { name: "ev/a", value: 1, metadata: { alarm: true } });
    await call("PUT", "/provider", { name: "ev/b", value: 2 });
    const ac = new AbortController();
    const res = await fetch(`${srv.url}/events?prefix=ev/&where=${q({ "metadata.alarm": true })}`, {
      headers: { "Last-Event-ID": String(first.body.index - 1) },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    const events: any[] = [];
    await call("PUT", "/provider", { name: "ev/c", value: 3 });
    await call("PUT", "/provider", { name: "ev/d", value: 4, metadata: { alarm: true } });
    while (events.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = chunk.split("\n").find((l) => l.startsWith("data:"));
        if (data) events.push(JSON.parse(data.slice(5)));
      }
    }
    ac.abort();
    expect(events.map((e) => e.name)).toEqual(["ev/a", "ev/d"]);
  });
});
