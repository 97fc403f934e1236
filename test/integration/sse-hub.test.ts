// The SSE hub: streams of one live selection share one core.watch, every stream gets every event,
// a stream that stops reading is cut without holding up the others, and each token sees only what it may read.

import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/until.js";

/** One raw SSE client: collects the ids of the events it receives. */
interface Client {
  readonly res: IncomingMessage;
  readonly ids: number[];
  readonly names: string[];
  close(): void;
}

function open(url: string, path: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { agent: false, headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`status ${res.statusCode}`));
        res.resume();
        return;
      }
      const client: Client = { res, ids: [], names: [], close: () => req.destroy() };
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let at = buf.indexOf("\n\n");
        while (at !== -1) {
          const frame = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (data !== undefined && /^event: set$/m.test(frame)) {
            const e = JSON.parse(data) as { name: string; revision: number };
            client.ids.push(e.revision);
            client.names.push(e.name);
          }
          at = buf.indexOf("\n\n");
        }
      });
      res.on("error", () => undefined);
      resolve(client);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("SSE hub", () => {
  let srv: TestServer;
  const put = async (registers: { name: string; value: unknown }[], token?: string) => {
    const res = await fetch(`${srv.url}/provider`, {
      method: "PUT",
      headers: { "content-type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ registers }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { index: number }).index;
  };

  beforeAll(async () => {
    srv = await startTestServer({ config: { maxConnectionsPerIp: 1000, maxPollsPerClient: 1000, maxWaiters: 2000 } });
  });
  afterAll(async () => {
    await srv?.dispose();
  });

  it("200 streams of one selection share one core.watch and all receive every event", async () => {
    const core = srv.server.core;
    const base = core.stats().waiters.stream;
    const clients = await Promise.all(Array.from({ length: 200 }, () => open(srv.url, "/events?prefix=hub/")));
    await until("200 subscribers", () => core.stats().subscribers === 200);
    expect(core.stats().waiters.stream).toBe(base + 1);
    const first = await put([{ name: "hub/a", value: 1 }]);
    const second = await put([{ name: "hub/b", value: 2 }]);
    await put([{ name: "other/x", value: 3 }]);
    await until("every client has both events", () => clients.every((c) => c.ids.length >= 2));
    for (const c of clients) expect(c.ids).toEqual([first, second]);
    for (const c of clients) c.close();
    await until("the shared watch ends with its last stream", () => core.stats().subscribers === 0);
    await until("the shared watch released", () => core.stats().waiters.stream === base);
  });

  it("a stream that stops reading is cut; the others keep receiving without delay", async () => {
    const core = srv.server.core;
    const fast = await open(srv.url, "/events?prefix=slow/");
    // A client that sends its request and never reads a byte.
    const slow: Socket = connect(srv.port, "127.0.0.1");
    await new Promise<void>((r) => slow.once("connect", () => r()));
    slow.pause();
    slow.write("GET /events?prefix=slow/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let slowClosed = false;
    slow.on("close", () => {
      slowClosed = true;
    });
    await until("2 subscribers", () => core.stats().subscribers === 2);
    const value = "x".repeat(60_000);
    let last = 0;
    // 8 MiB backlog plus what the socket buffers take, at ~600 kB per write: bounded at 200 writes.
    let writes = 0;
    for (; writes < 200 && !slowClosed && core.stats().subscribers === 2; writes++) {
      last = await put(Array.from({ length: 10 }, (_, j) => ({ name: `slow/${j}`, value: `${writes} ${value}` })));
      // The reading stream is never more than a few events behind.
      await until("the reading stream keeps up", () => fast.ids.at(-1) === last, 5000);
    }
    expect(writes).toBeLessThan(200);
    await until("the slow stream is cut", () => core.stats().subscribers === 1);
    // Counted where an operator looks.
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_event_streams_cut_total\{protocol="sse"\} 1$/m);
    const after = await put([{ name: "slow/z", value: 1 }]);
    await until("the reading stream still receives", () => fast.ids.at(-1) === after);
    fast.close();
    slow.destroy();
    await until("released", () => core.stats().subscribers === 0);
  }, 60_000);
});

describe("SSE hub with auth", () => {
  let srv: TestServer;
  let admin: string;
  const call = async (method: string, path: string, body: unknown, token: string) => {
    const res = await fetch(`${srv.url}${path}`, {
      method,
      headers: { "content-type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    srv = await startTestServer({ config: { auth: "on" } });
    admin = readFileSync(join(srv.dataDir, "admin.token"), "utf8").trim();
  });
  afterAll(async () => {
    await srv?.dispose();
  });

  it("two tokens on one prefix each see only the registers they may read", async () => {
    const tokens: string[] = [];
    for (const [policy, prefix] of [
      ["left", "sh/left/"],
      ["right", "sh/right/"],
    ] as const) {
      expect((await call("PUT", `/acl/policies/${policy}`, { rules: [{ prefix, read: true }] }, admin)).status).toBe(
        200,
      );
      const created = await call("POST", "/acl/tokens", { policies: [policy] }, admin);
      expect(created.status).toBe(201);
      tokens.push(created.body.token as string);
    }
    const core = srv.server.core;
    const base = core.stats().waiters.stream;
    const left = await open(srv.url, "/events?prefix=sh/", { Authorization: `Bearer ${tokens[0]}` });
    const right = await open(srv.url, "/events?prefix=sh/", { Authorization: `Bearer ${tokens[1]}` });
    const both = await open(srv.url, "/events?prefix=sh/", { Authorization: `Bearer ${admin}` });
    await until("3 subscribers", () => core.stats().subscribers === 3);
    expect(core.stats().waiters.stream).toBe(base + 1);
    const registers = [
      { name: "sh/left/1", value: 1 },
      { name: "sh/right/1", value: 2 },
      { name: "sh/left/2", value: 3 },
      { name: "sh/hidden", value: 4 },
      // Sentinels: events arrive in order, so once these are in, anything wrongly sent before them is too.
      { name: "sh/left/end", value: 5 },
      { name: "sh/right/end", value: 6 },
    ];
    for (const r of registers) expect((await call("PUT", "/provider", { registers: [r] }, admin)).status).toBe(200);
    await until("the admin stream has all", () => both.names.length === registers.length);
    await until("left has its sentinel", () => left.names.includes("sh/left/end"));
    await until("right has its sentinel", () => right.names.includes("sh/right/end"));
    expect(both.names).toEqual(registers.map((r) => r.name));
    expect(left.names).toEqual(["sh/left/1", "sh/left/2", "sh/left/end"]);
    expect(right.names).toEqual(["sh/right/1", "sh/right/end"]);
    for (const c of [left, right, both]) c.close();
    await until("released", () => core.stats().subscribers === 0);
  });
});
