// Cluster benchmarks (run via test/bench/run.ts --only=cluster): three dist/ nodes on the local JetStream.
// 1. Wake latency of a long-poll on another node vs on the writer itself, for the same writes.
// 2. PUT throughput through all three nodes (followers forward) vs one plain node with the in-memory store.
// 3. Failover: kill -9 of the writer until a write is acknowledged again.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { envName } from "../../src/config.js";
import {
  type ClusterNode,
  cleanUp,
  findWriter,
  put,
  putAnywhere,
  startNode,
  uniqueStream,
} from "../helpers/cluster-nodes.js";
import { TEST_PROTOCOL_DEFAULTS } from "../helpers/server.js";
import type { Section, TargetResult } from "./lib/report.js";
import { int, ms, percentile, table } from "./lib/stats.js";

export interface ClusterBenchSettings {
  readonly wakeRounds: number;
  readonly putSeconds: number;
  readonly putClients: number;
  readonly failovers: number;
}

export const DEFAULT_CLUSTER_SETTINGS: ClusterBenchSettings = {
  wakeRounds: 1000,
  putSeconds: 5,
  putClients: 16,
  failovers: 3,
};

async function poll(url: string, index: number): Promise<number> {
  const res = await fetch(`${url}/consumer?name=bench/x&index=${index}&wait=10s`);
  await res.arrayBuffer();
  return performance.now();
}

/** PUTs by `clients` loops for `seconds`, each client on urls[client % n]; answers writes per second. */
async function putLoad(urls: readonly string[], clients: number, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const url = urls[c % urls.length]!;
      for (let i = 0; performance.now() < until; i++) {
        const res = await fetch(`${url}/provider`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: `bench/p/${c}`, value: i }),
        });
        await res.arrayBuffer();
        if (res.status === 200) done++;
      }
    }),
  );
  return done / seconds;
}

/** One plain node (no cluster, in-memory store) as the throughput baseline. */
async function plainNode(): Promise<{ url: string; child: ChildProcess }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SWITCHBOARD_")) env[k] = v;
  // Ephemeral ports for every dialect, as the cluster nodes get them.
  for (const [key, value] of Object.entries(TEST_PROTOCOL_DEFAULTS)) env[envName(key)] = String(value);
  const child = spawn(
    process.execPath,
    ["dist/cli.js", "serve", "--port", "0", "--data-dir", ":memory:", "--log-level", "info"],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...env, SWITCHBOARD_LOG_PRETTY: "false" } },
  );
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`plain node exited with ${code}`)));
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "switchboard listening" && entry.url) resolve(entry.url);
    });
  });
  return { url, child };
}

export async function runClusterBench(s: ClusterBenchSettings, log: (line: string) => void): Promise<Section> {
  const targets: TargetResult[] = [];
  const rows: string[][] = [];
  // 1 + 2: wake and throughput on one cluster.
  let stream = uniqueStream();
  let nodes: ClusterNode[] = [];
  try {
    nodes = await Promise.all(["a", "b", "c"].map((id) => startNode(stream, `bench-${id}`)));
    await putAnywhere(nodes, { name: "bench/x", value: 0 });
    const writer = await findWriter(nodes);
    const follower = nodes.find((n) => n !== writer)!;
    const same: number[] = [];
    const cross: number[] = [];
    let index = (await (await fetch(`${follower.url}/consumer?name=bench/x&index=0`)).json()).index as number;
    // Both polls must be held before the write: a short settle (the servers register a held poll at once).
    for (let r = 1; r <= s.wakeRounds; r++) {
      const onWriter = poll(writer.url, index);
      const onFollower = poll(follower.url, index);
      await new Promise((res) => setTimeout(res, 2));
      const t0 = performance.now();
      const answer = await put(writer, { name: "bench/x", value: r });
      if (answer.status !== 200) throw new Error(`write answered ${answer.status}`);
      const [tw, tf] = await Promise.all([onWriter, onFollower]);
      same.push(tw - t0);
      cross.push(tf - t0);
      index = answer.body.index ?? index + 1;
    }
    const crossP99 = percentile(cross, 99);
    rows.push(["wake, same node (writer)", ms(percentile(same, 50)), ms(percentile(same, 99)), int(s.wakeRounds)]);
    rows.push(["wake, another node", ms(percentile(cross, 50)), ms(crossP99), int(s.wakeRounds)]);
    targets.push({ what: "cross-node wake p99", target: "< 50 ms", measured: ms(crossP99), pass: crossP99 < 50 });
    log(`cross-node wake p50 ${ms(percentile(cross, 50))} p99 ${ms(crossP99)}`);

    const clusterRate = await putLoad(
      nodes.map((n) => n.url),
      s.putClients,
      s.putSeconds,
    );
    const writerRate = await putLoad([writer.url], s.putClients, s.putSeconds);
    const plain = await plainNode();
    let plainRate = 0;
    try {
      plainRate = await putLoad([plain.url], s.putClients, s.putSeconds);
    } finally {
      plain.child.kill("SIGKILL");
    }
    rows.push(["PUT/s, one plain node (memory)", int(plainRate), "", `${s.putClients} clients`]);
    rows.push(["PUT/s, cluster, all to the writer", int(writerRate), "", `${s.putClients} clients`]);
    rows.push(["PUT/s, cluster, spread over 3 nodes", int(clusterRate), "", `${s.putClients} clients`]);
    const ratio = clusterRate / plainRate;
    targets.push({
      what: "cluster PUT throughput vs one node",
      target: "≥ 0.8×",
      measured: `${ratio.toFixed(2)}×`,
      pass: ratio >= 0.8,
    });
    log(`PUT/s plain ${int(plainRate)}, writer ${int(writerRate)}, spread ${int(clusterRate)}`);
  } finally {
    await cleanUp(stream);
  }

  // 3: failovers (lease TTL 1 s).
  const failover: number[] = [];
  for (let f = 0; f < s.failovers; f++) {
    stream = uniqueStream();
    try {
      nodes = await Promise.all(
        ["a", "b", "c"].map((id) => startNode(stream, `bench-${id}`, { SWITCHBOARD_CLUSTER_LEASE_TTL: "1s" })),
      );
      await putAnywhere(nodes, { name: "bench/f", value: 0 });
      const writer = await findWriter(nodes);
      await writer.kill();
      const t0 = performance.now();
      await putAnywhere(
        nodes.filter((n) => n !== writer),
        { name: "bench/f", value: 1 },
        10_000,
      );
      failover.push(performance.now() - t0);
    } finally {
      await cleanUp(stream);
    }
  }
  const worst = Math.max(...failover);
  rows.push(["failover (kill -9, TTL 1 s)", ms(percentile(failover, 50)), ms(worst), int(s.failovers)]);
  targets.push({
    what: "writes resume after a writer kill",
    target: "< TTL + 1 s",
    measured: ms(worst),
    pass: worst < 2000,
  });
  log(`failover ${failover.map(ms).join(", ")}`);

  return {
    title: "Cluster (3 nodes on JetStream)",
    body: [
      "Three `serve --cluster` child processes from dist/ on the local single-server JetStream (1 replica).",
      "Wake: a long-poll on the writer and one on a follower, both held, then one PUT on the writer; time from",
      "the PUT to each answer. Throughput: closed-loop PUT clients for a fixed time. Failover: kill -9 of the",
      "writer until a write through a survivor is acknowledged (lease TTL 1 s).",
      "",
      table(["measure", "p50 / rate", "p99 / max", "n"], rows),
    ].join("\n"),
    targets,
  };
}
