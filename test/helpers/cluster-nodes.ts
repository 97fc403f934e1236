// Cluster members as child processes running dist/cli.js serve --cluster (SIGKILL-able), and cleanup of their NATS stream and lease bucket.

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { envName } from "../../src/config.js";
import { TEST_PROTOCOL_DEFAULTS } from "./server.js";

export const NATS_URL = "nats://127.0.0.1:4222";

export interface ClusterNode {
  readonly nodeId: string;
  readonly url: string;
  /** SIGKILL: no lease hand-over, no flush; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Sends a signal (SIGSTOP / SIGCONT to pause and resume the process). */
  signal(sig: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

/** A stream name no other test run uses (its lease bucket is `<stream>-lease`). */
export function uniqueStream(): string {
  return `sbtest_${randomBytes(6).toString("hex")}`;
}

export async function startNode(
  stream: string,
  nodeId: string,
  env: Record<string, string> = {},
): Promise<ClusterNode> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SWITCHBOARD_") && k !== "MONGO_URI") base[k] = v;
  for (const [key, value] of Object.entries(TEST_PROTOCOL_DEFAULTS)) base[envName(key)] = String(value);
  const child = spawn(
    process.execPath,
    ["dist/cli.js", "serve", "--port", "0", "--data-dir", ":memory:", "--log-level", "info"],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...base,
        SWITCHBOARD_CLUSTER: NATS_URL,
        SWITCHBOARD_CLUSTER_STREAM: stream,
        SWITCHBOARD_NODE_ID: nodeId,
        SWITCHBOARD_LOG_PRETTY: "false",
        ...env,
      },
    },
  );
  live.add(child);
  child.once("exit", () => live.delete(child));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`node ${nodeId} exited with ${code}`)));
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "switchboard listening" && entry.url) resolve(entry.url);
    });
  });
  return {
    nodeId,
    url,
    signal: (sig) => child.kill(sig),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

/** Kills every node still running. */
export async function killNodes(): Promise<void> {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGCONT");
          c.kill("SIGKILL");
        }),
    ),
  );
}

/** Kills every node still running, then deletes the stream and its lease bucket from the local JetStream. */
export async function cleanUp(stream: string): Promise<void> {
  await killNodes();
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch(() => false);
    await jsm.streams.delete(`KV_${stream}-lease`).catch(() => false);
    await jsm.streams.delete(`OBJ_${stream}-snap`).catch(() => false);
  } finally {
    await nc.close();
  }
}

export interface WriteAnswer {
  readonly status: number;
  readonly body: { error?: { code: string; details?: { writer?: string | null } }; index?: number };
  readonly retryAfter: string | null;
}

export async function put(node: ClusterNode, body: unknown): Promise<WriteAnswer> {
  const res = await fetch(`${node.url}/provider`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as WriteAnswer["body"],
    retryAfter: res.headers.get("retry-after"),
  };
}

/**
 * Writes through `nodes`, following NOT_WRITER's hint to the writer, for at most `deadlineMs`. Returns the node that
 * took the write. A node that cannot be reached (killed) is skipped.
 */
export async function putAnywhere(
  nodes: readonly ClusterNode[],
  body: unknown,
  deadlineMs = 5000,
): Promise<ClusterNode> {
  const until = Date.now() + deadlineMs;
  let next: ClusterNode | undefined = nodes[0];
  for (let i = 0; Date.now() < until; i++) {
    const node: ClusterNode = next ?? nodes[i % nodes.length]!;
    next = undefined;
    const answer = await put(node, body).catch(() => null);
    if (answer?.status === 200) return node;
    const writer = answer?.body.error?.details?.writer;
    next = writer ? nodes.find((n) => n.nodeId === writer && n !== node) : undefined;
    if (!next) await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no node took the write within ${deadlineMs} ms`);
}

/** The node whose /status says it is the writer (polled for at most `deadlineMs`; killed nodes are skipped). */
export async function findWriter(nodes: readonly ClusterNode[], deadlineMs = 5000): Promise<ClusterNode> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    for (const n of nodes) {
      const status = await fetch(`${n.url}/status`)
        .then((r) => r.json() as Promise<{ cluster?: { role?: string } }>)
        .catch(() => null);
      if (status?.cluster?.role === "writer") return n;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no node became the writer within ${deadlineMs} ms`);
}

export interface ConsumerAnswer {
  index: number;
  epoch: string;
  resync?: boolean;
  registers: { name: string; found: boolean; value?: unknown; modRevision?: number }[];
}

/** `GET /consumer?<query>` on `node`; anything but 200 throws. */
export async function consumer(node: ClusterNode, query: string): Promise<ConsumerAnswer> {
  const res = await fetch(`${node.url}/consumer?${query}`);
  if (res.status !== 200) throw new Error(`GET /consumer?${query} on ${node.nodeId} answered ${res.status}`);
  return (await res.json()) as ConsumerAnswer;
}

/** Waits (by long-polling, not sleeping) until `node` has applied revision `index`; answers its whole state then. */
export async function reach(node: ClusterNode, index: number): Promise<ConsumerAnswer> {
  for (let i = 0; i < 50; i++) {
    const seen = await consumer(node, "prefix=&index=0");
    if (seen.index >= index) return seen;
    await consumer(node, `prefix=&index=${seen.index}&wait=2s`);
  }
  throw new Error(`${node.nodeId} never reached revision ${index}`);
}
