// Cluster faults on the local JetStream: a dropped publish acknowledgement (the retry with the same message id makes
// one entry, not two), short TTLs expiring exactly once across a writer kill, and a node cut off from NATS by a TCP
// proxy (not ready meanwhile, reads still served, ready again and caught up once the proxy lets it through).

import { createServer, type Server, Socket } from "node:net";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Mutation } from "../../src/core/types.js";
import { createReplicatedLog, type ReplicatedLog } from "../../src/storage/cluster/replicated-log.js";
import {
  type ClusterNode,
  cleanUp,
  findWriter,
  put,
  putAnywhere,
  startNode,
  uniqueStream,
} from "../helpers/cluster-nodes.js";
import { until } from "../helpers/until.js";

/**
 * A TCP proxy to the local NATS. `cut()` closes every connection and refuses new ones until `restore()`;
 * `dropAckOnce(stream)` removes the next JetStream publish acknowledgement of that stream from the server's answers.
 */
class NatsProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  #dropAck: string | null = null;
  dropped = 0;
  port = 0;

  constructor() {
    this.#server = createServer((client) => {
      if (this.#cut) return void client.destroy();
      const upstream = new Socket();
      upstream.connect(4222, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => {
          this.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
        s.on("error", () => undefined);
      }
      client.on("data", (chunk) => upstream.write(chunk));
      upstream.on("data", (chunk: Buffer) => client.write(this.#filter(chunk)));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as { port: number }).port;
    return `nats://127.0.0.1:${this.port}`;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#cut = false;
  }

  dropAckOnce(stream: string): void {
    this.#dropAck = `{"stream":"${stream}",`; // nats-server writes `{"stream":"s", "seq":n}`
  }

  /** Cuts one whole `MSG … <size>\r\n<ack>\r\n` frame out of the chunk when armed and the frame is all in it. */
  #filter(chunk: Buffer): Buffer {
    if (this.#dropAck === null) return chunk;
    const text = chunk.toString("latin1");
    const at = text.indexOf(this.#dropAck);
    if (at < 0) return chunk;
    const headerEnd = text.lastIndexOf("\r\n", at - 1);
    const start = text.lastIndexOf("MSG ", headerEnd);
    if (headerEnd < 0 || start < 0 || headerEnd + 2 !== at) return chunk;
    const size = Number(text.slice(start, headerEnd).trim().split(/\s+/).at(-1));
    const end = at + size + 2;
    if (!Number.isInteger(size) || end > text.length) return chunk;
    this.#dropAck = null;
    this.dropped++;
    return Buffer.concat([chunk.subarray(0, start), chunk.subarray(end)]);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

let stream = "";
const proxies: NatsProxy[] = [];
const logs: ReplicatedLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const p of proxies.splice(0)) await p.close();
  if (stream) await cleanUp(stream);
  stream = "";
});

function setMutation(revision: number): Mutation {
  return {
    type: "set",
    name: "acked",
    revision,
    register: {
      name: "acked",
      value: revision,
      metadata: {},
      createRevision: 1,
      modRevision: revision,
      version: revision,
      createdAt: 0,
      updatedAt: 0,
      expiresAt: null,
    },
  } as Mutation;
}

async function readyz(node: ClusterNode): Promise<number> {
  return (await fetch(`${node.url}/readyz`)).status;
}

describe("cluster faults", { timeout: 60_000 }, () => {
  it("a publish whose acknowledgement was lost is retried with the same message id: one entry, not two", async () => {
    stream = uniqueStream();
    const proxy = new NatsProxy();
    proxies.push(proxy);
    const log = createReplicatedLog({
      url: await proxy.listen(),
      stream,
      replicas: 1,
      nodeId: "acks",
      leaseTtlMs: 2000,
      publishTimeoutMs: 400,
      logger: pino({ level: "silent" }),
    });
    logs.push(log);
    await log.load();
    await log.follow(
      () => undefined,
      () => undefined,
    );
    await until("the writer lease", () => log.isWriter!(), 10_000);
    await log.commit([setMutation(1)]);
    proxy.dropAckOnce(stream);
    await log.commit([setMutation(2)]); // its first acknowledgement never arrives: answered by the retry
    expect(proxy.dropped).toBe(1);
    await log.commit([setMutation(3)]); // the next conditional append follows on, no "wrong last sequence"
    expect(log.isWriter!()).toBe(true);
    expect(log.cluster().appliedSequence).toBe(3);
    const nc = await connect({ servers: "nats://127.0.0.1:4222" });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(stream);
      expect(info.state.messages).toBe(3);
      expect(info.state.last_seq).toBe(3);
    } finally {
      await nc.close();
    }
  });

  it("short TTLs expire exactly once across a writer kill", async () => {
    stream = uniqueStream();
    const env = { SWITCHBOARD_CLUSTER_LEASE_TTL: "1s" };
    const all = await Promise.all(["a", "b", "c"].map((id) => startNode(stream, `node-${id}`, env)));
    await putAnywhere(all, { name: "warmup", value: 0 });
    const writer = await findWriter(all);
    const survivors = all.filter((n) => n !== writer);
    // Every survivor counts the expire events it streams.
    const seen = survivors.map(() => new Map<string, number>());
    const aborts = new AbortController();
    const readers = survivors.map(async (n, i) => {
      const res = await fetch(`${n.url}/events?prefix=short/`, { signal: aborts.signal });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
        let cut = text.indexOf("\n\n");
        while (cut >= 0) {
          const frame = text.slice(0, cut);
          text = text.slice(cut + 2);
          const m = /^event: expire\ndata: (.*)$/m.exec(frame);
          if (m) {
            const name = (JSON.parse(m[1]!) as { name: string }).name;
            seen[i]!.set(name, (seen[i]!.get(name) ?? 0) + 1);
          }
          cut = text.indexOf("\n\n");
        }
      }
    });
    const names = Array.from({ length: 10 }, (_, i) => `short/${i}`);
    const written = await put(writer, { registers: names.map((name) => ({ name, value: 1, ttl: "1500ms" })) });
    expect(written.status).toBe(200);
    await writer.kill(); // before any of them expired
    await findWriter(survivors, 10_000);
    try {
      await until("every register expired on both survivors", () => seen.every((s) => s.size === names.length), 20_000);
      // A second expiry would come from the next sweeps: give them a few rounds.
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      aborts.abort();
      await Promise.allSettled(readers);
    }
    for (const s of seen) expect([...s.entries()].sort()).toEqual(names.map((n) => [n, 1]).sort());
    for (const n of survivors) {
      const registers = ((await (await fetch(`${n.url}/registers?prefix=short/`)).json()) as { registers: unknown[] })
        .registers;
      expect(registers).toEqual([]);
    }
  });

  it("a node cut off from NATS by a proxy turns not ready, keeps serving reads, and recovers", async () => {
    stream = uniqueStream();
    const proxy = new NatsProxy();
    proxies.push(proxy);
    const env = { SWITCHBOARD_CLUSTER_LEASE_TTL: "1s" };
    const a = await startNode(stream, "node-a", env);
    await putAnywhere([a], { name: "x", value: 1 });
    const b = await startNode(stream, "node-b", { ...env, SWITCHBOARD_CLUSTER: await proxy.listen() });
    await until("b ready with x", async () => (await readyz(b)) === 200 && (await reachValue(b)) === 1, 10_000);

    proxy.cut();
    await until("b not ready", async () => (await readyz(b)) === 503, 10_000);
    // Reads keep serving the last applied state; writes there are refused, nothing half-applied.
    expect(await reachValue(b)).toBe(1);
    const refused = await put(b, { name: "x", value: 99 });
    expect(refused.status).toBe(503);
    // The rest of the cluster goes on (a was, or becomes, the writer).
    await putAnywhere([a], { name: "x", value: 2 }, 10_000);

    proxy.restore();
    await until(
      "b ready again and caught up",
      async () => (await readyz(b)) === 200 && (await reachValue(b)) === 2,
      20_000,
    );
    expect((await put(b, { name: "x", value: 3 })).status).toBe(200);
    expect(await reachValue(a)).toBe(3);
  });
});

async function reachValue(node: ClusterNode): Promise<unknown> {
  const res = await fetch(`${node.url}/consumer?name=x`);
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { registers: { value?: unknown }[] }).registers[0]?.value;
}
