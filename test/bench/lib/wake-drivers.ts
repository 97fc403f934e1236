// The systems benchmark 1 wakes: Switchboard and the bare hono baseline (held long-polls, re-armed every
// round), and etcd (watch streams through its JSON gateway, opened once). Each one owns its load workers.

import { rm } from "node:fs/promises";
import { makeTempDir } from "../../helpers/temp-dir.js";
import type { WorkerIn, WorkerOut } from "../workers/protocol.js";
import { type ServerChild, startBareHono, startBareNode, startSwitchboard, Worker, waitUntil } from "./children.js";
import { b64 } from "./etcd.js";
import { heldPolls, requestJson } from "./http.js";

export type WakeKind = "switchboard" | "bare" | "etcd" | "floor";

export interface RoundAnswers {
  /** arrival times (ms, CLOCK_MONOTONIC) of the answers that carried the round's value */
  readonly times: number[];
  readonly bad: number;
  readonly badSample?: string;
}

export interface WakeDriver {
  readonly kind: WakeKind;
  readonly label: string;
  readonly consumers: number;
  readonly workers: number;
  /** RSS of the server, bytes (NaN when not ours to measure). */
  rss(): Promise<number>;
  /** Makes sure `consumers` waits are held and will answer with `round`'s value. */
  arm(round: number): Promise<void>;
  /** Sends the write of `round`; resolves once it is acknowledged. */
  write(round: number): Promise<void>;
  /** Resolves once every wait of the round answered. */
  collect(): Promise<RoundAnswers>;
  close(): Promise<void>;
}

export const WAKE_REGISTER = "bench/wake";

const workerCount = (consumers: number) => (consumers >= 1000 ? 2 : 1);

function startWorkers(n: number): Worker<WorkerIn, WorkerOut>[] {
  return Array.from({ length: n }, () => new Worker<WorkerIn, WorkerOut>("workers/poll-worker.ts"));
}

function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

function expect<T extends WorkerOut["type"]>(m: WorkerOut, type: T): Extract<WorkerOut, { type: T }> {
  if (m.type === "error") throw new Error(`load worker: ${m.message}`);
  if (m.type !== type) throw new Error(`load worker answered ${m.type}, expected ${type}`);
  return m as Extract<WorkerOut, { type: T }>;
}

async function gather(workers: readonly Worker<WorkerIn, WorkerOut>[]): Promise<RoundAnswers> {
  const answers = await Promise.all(workers.map((w) => w.next(60_000)));
  const times: number[] = [];
  let bad = 0;
  let badSample: string | undefined;
  for (const a of answers) {
    const done = expect(a, "done");
    for (const t of done.times) times.push(t);
    bad += done.bad;
    badSample ??= done.badSample;
  }
  return { times, bad, ...(badSample ? { badSample } : {}) };
}

/** Switchboard (file store, strict durability: the defaults) or the bare hono baseline, with N held long-polls. */
export async function longPollDriver(kind: "switchboard" | "bare" | "floor", consumers: number): Promise<WakeDriver> {
  const dir = kind === "switchboard" ? await makeTempDir("switchboard-bench-") : undefined;
  const server: ServerChild = dir
    ? await startSwitchboard(dir.path, "strict")
    : kind === "floor"
      ? await startBareNode()
      : await startBareHono();
  const workers = startWorkers(workerCount(consumers));
  const counts = shares(consumers, workers.length);
  const put = async (round: number) => {
    const res = await requestJson("PUT", `${server.url}/provider`, { name: WAKE_REGISTER, value: { round } });
    if (res.status !== 200) throw new Error(`PUT /provider answered ${res.status}: ${JSON.stringify(res.body)}`);
    return (res.body as { index?: number }).index ?? 0;
  };
  let index = await put(0);
  return {
    kind,
    label:
      kind === "switchboard" ? "Switchboard (file, strict)" : kind === "floor" ? "bare node:http (floor)" : "bare hono",
    consumers,
    workers: workers.length,
    rss: () => server.rss(),
    async arm(round) {
      const path = `/consumer?name=${encodeURIComponent(WAKE_REGISTER)}&index=${index}&wait=60s`;
      for (const [i, w] of workers.entries()) {
        w.send({ type: "longpoll-arm", url: server.url, path, count: counts[i]!, round });
      }
      for (const w of workers) expect(await w.next(), "armed");
      let held = 0;
      await waitUntil(
        () => `${consumers} held polls on ${server.label} (round ${round}: ${held} held)`,
        async () => {
          held = await heldPolls(server.url, kind === "switchboard" ? kind : "bare");
          return held === consumers;
        },
        90_000,
      );
    },
    async write(round) {
      index = await put(round);
    },
    collect: () => gather(workers),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await server.stop();
      if (dir) await rm(dir.path, { recursive: true, force: true });
    },
  };
}

/** N etcd watch streams on one key through the v3 JSON gateway (`POST /v3/watch`), opened once. */
export async function etcdWatchDriver(etcd: ServerChild, consumers: number): Promise<WakeDriver> {
  const key = b64(WAKE_REGISTER);
  const put = async (round: number) => {
    const res = await requestJson("POST", `${etcd.url}/v3/kv/put`, { key, value: b64(String(round)) });
    if (res.status !== 200) throw new Error(`etcd put answered ${res.status}: ${JSON.stringify(res.body)}`);
  };
  await put(0);
  const workers = startWorkers(workerCount(consumers));
  const counts = shares(consumers, workers.length);
  for (const [i, w] of workers.entries()) w.send({ type: "etcd-watch-open", url: etcd.url, key, count: counts[i]! });
  for (const w of workers) expect(await w.next(), "ready");
  return {
    kind: "etcd",
    label: etcd.label,
    consumers,
    workers: workers.length,
    rss: () => etcd.rss(),
    async arm(round) {
      for (const w of workers) w.send({ type: "etcd-expect", round });
      for (const w of workers) expect(await w.next(), "armed");
    },
    write: put,
    collect: () => gather(workers),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
