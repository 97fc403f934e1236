// The systems the wake benchmarks wake: Switchboard and the bare baselines (held long-polls, re-armed every
// round), Switchboard's SSE `/events` and the bare SSE floor (streams opened once), and etcd (watch streams
// through its JSON gateway, opened once). Each one owns its load workers. Every driver can sample its server
// child's CPU time (and, where the heap probe is loaded, its V8 heap allocation) around a round.

import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../../helpers/temp-dir.js";
import type { WorkerIn, WorkerOut } from "../workers/protocol.js";
import {
  BENCH_DIR,
  type ServerChild,
  sleep,
  startBareHono,
  startNodeServer,
  startSwitchboardBinary,
  Worker,
  waitUntil,
} from "./children.js";
import { b64 } from "./etcd.js";
import { heldPolls, requestJson } from "./http.js";

export type WakeKind = "switchboard" | "bare" | "etcd" | "floor" | "sse" | "sse-floor" | "client";

/** What a server child has used so far: CPU time, and V8 heap allocation where the heap probe is loaded. */
export interface ServerSample {
  /** user + system CPU time of every thread of the child, ms */
  readonly cpuMs: number;
  /** V8 heap bytes allocated since start (heap probe), or NaN */
  readonly allocated: number;
  readonly scavenges: number;
  readonly markSweeps: number;
}

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
  /** CPU and heap allocation of the server child so far (take one before a round and one after). */
  sample(): Promise<ServerSample>;
  /** A cheap GET on the same server for the stall probe (url + path), or undefined. */
  readonly stallTarget?: { readonly url: string; readonly path: string };
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

export function startWorkers(n: number): Worker<WorkerIn, WorkerOut>[] {
  return Array.from({ length: n }, () => new Worker<WorkerIn, WorkerOut>("workers/poll-worker.ts"));
}

export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export function expect<T extends WorkerOut["type"]>(m: WorkerOut, type: T): Extract<WorkerOut, { type: T }> {
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

// ------------------------------------------------------------ server samples

const CLOCK_TICKS_PER_S = 100;

/**
 * CPU time (ms) of every thread of `pid` so far: the sum of each thread's run time from
 * /proc/<pid>/task/<tid>/schedstat (ns), so that GC helper and libuv threads count; from /proc/<pid>/stat
 * (utime + stime, 10 ms ticks) where schedstat is missing.
 */
export async function cpuMsOf(pid: number): Promise<number> {
  try {
    const tids = await readdir(`/proc/${pid}/task`);
    let ns = 0;
    for (const tid of tids) {
      try {
        ns += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8")).split(" ")[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1e6;
  } catch {
    // no schedstat: fall through
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S) * 1000;
}

interface HeapProbe {
  /** NODE_OPTIONS and BENCH_HEAP_PROBE for the child */
  readonly env: Record<string, string>;
  read(pid: number): Promise<Omit<ServerSample, "cpuMs">>;
  cleanup(): Promise<void>;
}

const NO_HEAP = { allocated: Number.NaN, scavenges: Number.NaN, markSweeps: Number.NaN };

/** test/bench/workers/heap-probe.mjs in a server child: SIGUSR2 makes it write its counters to a file. */
async function heapProbe(extraNodeOptions: string[] = []): Promise<HeapProbe> {
  const dir = await makeTempDir("switchboard-bench-heap-");
  const file = join(dir.path, "heap.json");
  let seq = 0;
  return {
    env: {
      NODE_OPTIONS: [
        process.env.NODE_OPTIONS ?? "",
        ...extraNodeOptions,
        `--import=${join(BENCH_DIR, "workers/heap-probe.mjs")}`,
      ]
        .join(" ")
        .trim(),
      BENCH_HEAP_PROBE: file,
    },
    async read(pid) {
      process.kill(pid, "SIGUSR2");
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          const got = JSON.parse(await readFile(file, "utf8")) as {
            seq: number;
            allocated: number;
            scavenges: number;
            markSweeps: number;
          };
          if (got.seq > seq) {
            seq = got.seq;
            return { allocated: got.allocated, scavenges: got.scavenges, markSweeps: got.markSweeps };
          }
        } catch {
          // not written yet, or caught mid-write
        }
        if (Date.now() > deadline) throw new Error(`the heap probe of pid ${pid} did not answer within 30 s`);
        await sleep(1);
      }
    },
    cleanup: () => rm(dir.path, { recursive: true, force: true }),
  };
}

interface Started {
  readonly server: ServerChild;
  sample(): Promise<ServerSample>;
  cleanup(): Promise<void>;
}

/**
 * A server child for a wake driver, with the heap probe loaded: Switchboard (file store, strict durability,
 * the binary's node flags, in a temp data dir), or one of the bare servers of test/bench/servers/.
 */
async function startProbed(kind: "switchboard" | "floor" | "bare" | "sse-floor"): Promise<Started> {
  const probe = await heapProbe();
  const dir = kind === "switchboard" ? await makeTempDir("switchboard-bench-") : undefined;
  let server: ServerChild;
  try {
    server = dir
      ? await startSwitchboardBinary("switchboard file strict", { dataDir: dir.path, env: probe.env })
      : kind === "floor"
        ? await startNodeServer("bare node:http", join(BENCH_DIR, "servers/bare-node.ts"), [], probe.env)
        : kind === "sse-floor"
          ? await startNodeServer("bare SSE", join(BENCH_DIR, "servers/bare-sse.ts"), [], probe.env)
          : await startBareHono();
  } catch (err) {
    await probe.cleanup();
    if (dir) await rm(dir.path, { recursive: true, force: true });
    throw err;
  }
  const probed = kind !== "bare";
  return {
    server,
    async sample() {
      const [cpuMs, heap] = await Promise.all([
        cpuMsOf(server.pid),
        probed ? probe.read(server.pid) : Promise.resolve(NO_HEAP),
      ]);
      return { cpuMs, ...heap };
    },
    async cleanup() {
      await probe.cleanup();
      if (dir) await rm(dir.path, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- drivers

/**
 * Switchboard (file store, strict durability: the defaults; the binary's node flags), the bare hono baseline,
 * or the bare node:http floor, with N held long-polls.
 */
export async function longPollDriver(kind: "switchboard" | "bare" | "floor", consumers: number): Promise<WakeDriver> {
  const started = await startProbed(kind);
  const { server } = started;
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
    sample: () => started.sample(),
    stallTarget: { url: server.url, path: kind === "switchboard" ? "/healthz" : "/waiters" },
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
          return held >= consumers;
        },
        90_000,
      );
      // A poll a worker sent again (its pooled socket failed under it) can leave the server one more request
      // than the round counts until the server sees the old socket close. Each worker checks its own answers,
      // so the round stays exact; the extra one only costs the server one more answer, and is said.
      if (held > consumers)
        console.log(`  (${server.label}, round ${round}: ${held - consumers} more held than armed)`);
    },
    async write(round) {
      index = await put(round);
    },
    collect: () => gather(workers),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await server.stop();
      await started.cleanup();
    },
  };
}

/**
 * N SSE streams opened once: Switchboard's `GET /events?prefix=bench/wake` (the SSE hub's shared live feed) or
 * the bare SSE floor (test/bench/servers/bare-sse.ts). A round: every stream expects the `set` frame carrying
 * the round's value; the write is the same `PUT /provider` as the long-polls'.
 */
export async function sseDriver(kind: "sse" | "sse-floor", consumers: number): Promise<WakeDriver> {
  const started = await startProbed(kind === "sse" ? "switchboard" : "sse-floor");
  const { server } = started;
  const workers = startWorkers(workerCount(consumers));
  const counts = shares(consumers, workers.length);
  const put = async (round: number) => {
    const res = await requestJson("PUT", `${server.url}/provider`, { name: WAKE_REGISTER, value: { round } });
    if (res.status !== 200) throw new Error(`PUT /provider answered ${res.status}: ${JSON.stringify(res.body)}`);
  };
  try {
    await put(0);
    const path = `/events?prefix=${encodeURIComponent(WAKE_REGISTER)}`;
    for (const [i, w] of workers.entries()) w.send({ type: "sse-open", url: server.url, path, count: counts[i]! });
    for (const w of workers) expect(await w.next(), "ready");
  } catch (err) {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
    await started.cleanup();
    throw err;
  }
  return {
    kind,
    label: kind === "sse" ? "Switchboard SSE /events" : "bare SSE (floor)",
    consumers,
    workers: workers.length,
    rss: () => server.rss(),
    sample: () => started.sample(),
    stallTarget: { url: server.url, path: kind === "sse" ? "/healthz" : "/waiters" },
    async arm(round) {
      for (const w of workers) w.send({ type: "sse-expect", round });
      for (const w of workers) expect(await w.next(), "armed");
    },
    write: put,
    collect: () => gather(workers),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await server.stop();
      await started.cleanup();
    },
  };
}

/** One @switchboard/client in a worker with N subscriptions of the register, all on the client's one shared poll. */
export async function clientDriver(consumers: number): Promise<WakeDriver> {
  const started = await startProbed("switchboard");
  const { server } = started;
  const worker = new Worker<WorkerIn, WorkerOut>("workers/client-worker.ts");
  const put = async (round: number) => {
    const res = await requestJson("PUT", `${server.url}/provider`, { name: WAKE_REGISTER, value: { round } });
    if (res.status !== 200) throw new Error(`PUT /provider answered ${res.status}: ${JSON.stringify(res.body)}`);
  };
  try {
    await put(0);
    worker.send({ type: "client-open", url: server.url, name: WAKE_REGISTER, count: consumers });
    expect(await worker.next(), "ready");
  } catch (err) {
    await worker.close();
    await server.stop();
    await started.cleanup();
    throw err;
  }
  return {
    kind: "client",
    label: "@switchboard/client",
    consumers,
    workers: 1,
    rss: () => server.rss(),
    sample: () => started.sample(),
    async arm(round) {
      worker.send({ type: "client-expect", round });
      expect(await worker.next(), "armed");
    },
    write: put,
    collect: () => gather([worker]),
    async close() {
      await worker.close();
      await server.stop();
      await started.cleanup();
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
    sample: async () => ({ cpuMs: await cpuMsOf(etcd.pid), ...NO_HEAP }),
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
