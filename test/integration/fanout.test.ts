// Fan-out: the writer is answered before the polls it wakes, a wake of 10,000 polls does not stall other requests,
// and changes=only answers exactly the registers that changed.

import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildServer, killChildren, startChild } from "../helpers/child-servers.js";
import { seededRandom } from "../helpers/flush.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

/** Opens `n` sockets that each send one held GET; `answered` counts the answers, in arrival order. */
async function holdPolls(port: number, n: number, target: string) {
  const sockets: Socket[] = [];
  const state = { answered: 0 };
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async () => {
        const s = connect({ port, host: "127.0.0.1" });
        s.setNoDelay(true);
        sockets.push(s);
        await new Promise<void>((resolve, reject) => {
          s.once("connect", resolve);
          s.once("error", reject);
        });
        s.on("error", () => undefined);
        let seen = false;
        s.on("data", () => {
          if (seen) return;
          seen = true;
          state.answered++;
        });
        s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      }),
    );
  }
  return {
    state,
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Sends /healthz back to back on one keep-alive socket until stopped, from a worker thread (its own
 * event loop: the 10,000 answers this process receives do not delay its timing); stop() answers the
 * longest round trip, ms.
 */
function probe(port: number) {
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
    const { connect } = require("node:net");
    const s = connect({ port: workerData.port, host: "127.0.0.1" });
    s.setNoDelay(true);
    let longest = 0, sentAt = 0, buffered = "";
    const send = () => { sentAt = performance.now(); s.write("GET /healthz HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"); };
    s.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      const m = /content-length: (\\d+)\\r\\n/i.exec(buffered);
      const head = buffered.indexOf("\\r\\n\\r\\n");
      if (!m || head === -1 || buffered.length < head + 4 + Number(m[1])) return;
      buffered = "";
      longest = Math.max(longest, performance.now() - sentAt);
      send();
    });
    s.once("connect", send);
    parentPort.once("message", () => { s.destroy(); parentPort.postMessage(longest); });`,
    { eval: true, workerData: { port } },
  );
  return {
    stop: async (): Promise<number> => {
      worker.postMessage("stop");
      const [longest] = (await once(worker, "message")) as [number];
      await worker.terminate();
      return longest;
    },
  };
}

describe("fan-out on a child server", () => {
  let child: ChildServer;
  beforeAll(async () => {
    child = await startChild(":memory:", 0, {
      SWITCHBOARD_MAX_POLLS_PER_CLIENT: "100000",
      SWITCHBOARD_MAX_CONNECTIONS: "15000",
      // Every poll of this test comes from 127.0.0.1.
      SWITCHBOARD_MAX_CONNECTIONS_PER_IP: "15000",
    });
  }, 60_000);
  afterAll(killChildren);

  const put = async (name: string, value: unknown) => {
    const res = await fetch(`${child.url}/provider`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, value }),
    });
    return (await res.json()) as { index: number };
  };

  it("answers the writer before the polls its write wakes", async () => {
    const { index } = await put("fan/first", 0);
    const n = 2000;
    const polls = await holdPolls(child.port, n, `/consumer?name=fan/first&index=${index}&wait=60s`);
    try {
      await until(
        async () => (await metricValue(child.url, "switchboard_waiters", { kind: "consumer" })) >= n,
        "polls",
      );
      const answered = await put("fan/first", 1).then(() => polls.state.answered);
      await until(() => polls.state.answered === n, "every poll answered");
      // The writer's answer leaves before any woken poll's; a few may be read first on the client side.
      expect(answered).toBeLessThan(n / 10);
    } finally {
      polls.close();
    }
  }, 120_000);

  it("wakes 10,000 held polls with one write without stalling an unrelated request", async () => {
    const { index } = await put("fan/many", 0);
    const n = 10_000;
    const polls = await holdPolls(child.port, n, `/consumer?name=fan/many&index=${index}&wait=120s`);
    try {
      await until(
        async () => (await metricValue(child.url, "switchboard_waiters", { kind: "consumer" })) >= n,
        "polls",
      );
      const quiet = probe(child.port);
      await new Promise((r) => setTimeout(r, 1000));
      const noise = await quiet.stop();
      const prober = probe(child.port);
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      await put("fan/many", 1);
      const tPut = performance.now() - t0;
      await until(() => polls.state.answered === n, "every poll answered");
      const tAll = performance.now() - t0;
      const longest = await prober.stop();
      // The bound is on what the wake adds: on a loaded machine the quiet round trip itself varies.
      expect(longest, `quiet ${noise} ms, put ${tPut} ms, all answered ${tAll} ms`).toBeLessThan(50 + noise);
    } finally {
      polls.close();
    }
  }, 180_000);
});

describe("changes=only", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.dispose());

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${srv.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("answers exactly the registers of the full answer that changed after the index, removed ones as found:false", async () => {
    const random = seededRandom(11);
    const names = Array.from({ length: 12 }, (_, i) => `delta/r${i}`);
    const indexes: number[] = [];
    const removedAt = new Map<string, number>();
    for (let step = 0; step < 60; step++) {
      const name = names[Math.floor(random() * names.length)]!;
      if (random() < 0.25) {
        const r = await call("DELETE", `/provider?name=${name}`);
        if (r.body.deleted.length > 0) removedAt.set(name, r.body.index);
      } else {
        const r = await call("PUT", "/provider", { name, value: step });
        if (r.body.registers[0].changed) removedAt.delete(name);
      }
      indexes.push((await call("GET", "/consumer?prefix=delta/")).body.index);
    }
    const full = (await call("GET", "/consumer?prefix=delta/")).body;
    for (const index of indexes) {
      const delta = await call("GET", `/consumer?prefix=delta/&index=${index}&changes=only&wait=0`);
      expect(delta.status).toBe(200);
      if (index === full.index) {
        // Nothing changed after the last index: held, then answered empty at the timeout.
        expect(delta.body.registers).toEqual([]);
        continue;
      }
      const changed = full.registers.filter((r: any) => r.modRevision > index);
      const gone = [...removedAt].filter(([, at]) => at > index).map(([name]) => ({ name, found: false }));
      const expected = [...changed, ...gone].sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(delta.body.index).toBe(full.index);
      expect(delta.body.registers).toEqual(expected);
    }
    // The default stays the whole prefix.
    const all = await call("GET", `/consumer?prefix=delta/&index=${indexes[0]}&wait=0`);
    expect(all.body.registers.filter((r: any) => r.found)).toEqual(full.registers);
    expect((await call("GET", "/consumer?prefix=delta/&changes=some")).body.error.code).toBe("INVALID_QUERY");
  });
});
