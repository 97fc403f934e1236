// Benchmark 3: provider PUT /provider req/s against the bare hono route (and etcd's put, when given), same run.
//
// autocannon (in the orchestrator process; every server is a child process) drives C keep-alive connections,
// closed loop, pipelining 1; connection i always writes register bench/put/c<i> with a value that changes on
// every request, so every PUT is a real change (a new revision and, on the file store, a log append).
// All servers are started up front and measured in alternating slices (A, B, C, A, B, C …): the ratio of
// each slice is taken against the baseline's slice next to it, so background load on this shared machine
// hits both sides of a ratio alike.

import { rm } from "node:fs/promises";
import { metricValue } from "../helpers/server.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { type ServerChild, startBareHono, startSwitchboard } from "./lib/children.js";
import { etcdPutBody } from "./lib/etcd.js";
import { type LoadOptions, type LoadResult, load } from "./lib/load.js";
import type { Section, TargetResult } from "./lib/report.js";
import { int, median, ratio, table } from "./lib/stats.js";

export interface PutSettings {
  readonly connections: number;
  /** one unmeasured slice per server first */
  readonly warmSeconds: number;
  readonly slices: number;
  readonly sliceSeconds: number;
}

export const DEFAULT_PUT_SETTINGS: PutSettings = { connections: 64, warmSeconds: 2, slices: 3, sliceSeconds: 4 };

export type PutTarget = "bare" | "memory" | "relaxed" | "strict" | "etcd";

export interface PutResult {
  readonly target: PutTarget;
  readonly label: string;
  readonly slices: LoadResult[];
  /** req/s of this slice ÷ req/s of the baseline's slice of the same round */
  readonly ratios: number[];
  /** Switchboard only: revisions per group commit over the whole run (warm-up included). */
  perCommit?: number;
}

export const providerBody = (conn: number, n: number) =>
  JSON.stringify({ name: `bench/put/c${conn}`, value: { n, at: "2025-01-01T00:00:00.000Z", ok: true } });

interface Running {
  readonly target: PutTarget;
  readonly server: ServerChild;
  readonly load: Omit<LoadOptions, "seconds" | "connections">;
  cleanup(): Promise<void>;
}

async function start(target: Exclude<PutTarget, "etcd">): Promise<Running> {
  const load = { method: "PUT", path: "/provider", body: providerBody } as const;
  if (target === "bare") {
    const server = await startBareHono();
    return { target, server, load: { ...load, url: server.url }, cleanup: () => server.stop() };
  }
  if (target === "memory") {
    const server = await startSwitchboard(":memory:");
    return { target, server, load: { ...load, url: server.url }, cleanup: () => server.stop() };
  }
  const dir = await makeTempDir("switchboard-bench-");
  const server = await startSwitchboard(dir.path, target);
  return {
    target,
    server,
    load: { ...load, url: server.url },
    async cleanup() {
      await server.stop();
      await rm(dir.path, { recursive: true, force: true });
    },
  };
}

export async function runPutBench(
  settings: PutSettings,
  etcd: ServerChild | null,
  log: (s: string) => void = () => undefined,
): Promise<{ section: Section; results: PutResult[] }> {
  const running: Running[] = [];
  try {
    for (const t of ["bare", "memory", "relaxed", "strict"] as const) running.push(await start(t));
    if (etcd) {
      running.push({
        target: "etcd",
        server: etcd,
        load: { url: etcd.url, method: "POST", path: "/v3/kv/put", body: etcdPutBody },
        cleanup: async () => undefined, // the orchestrator owns etcd
      });
    }
    const results: PutResult[] = running.map((r) => ({
      target: r.target,
      label: r.server.label,
      slices: [],
      ratios: [],
    }));
    const run = (r: Running, seconds: number) => load({ ...r.load, connections: settings.connections, seconds });
    for (const r of running) await run(r, settings.warmSeconds);
    for (let slice = 0; slice < settings.slices; slice++) {
      let base = Number.NaN;
      for (const [i, r] of running.entries()) {
        const got = await run(r, settings.sliceSeconds);
        if (r.target === "bare") base = got.reqPerSec;
        results[i]!.slices.push(got);
        results[i]!.ratios.push(got.reqPerSec / base);
      }
    }
    for (const [i, r] of running.entries()) {
      if (r.target === "bare" || r.target === "etcd") continue;
      const revisions = await metricValue(r.server.url, "switchboard_revision");
      const commits = await metricValue(r.server.url, "switchboard_commits");
      results[i]!.perCommit = revisions / commits;
    }
    for (const r of results) {
      log(
        `  ${r.label.padEnd(26)} ${r.slices.map((s) => int(s.reqPerSec)).join(" / ")} req/s, ratio ${ratio(median(r.ratios), 1)}`,
      );
    }
    return { section: putSection(results, settings), results };
  } finally {
    for (const r of running) await r.cleanup();
  }
}

const med = (r: PutResult, f: (s: LoadResult) => number) => median(r.slices.map(f));

function putSection(results: readonly PutResult[], settings: PutSettings): Section {
  const rows = results.map((r) => [
    r.label,
    int(med(r, (s) => s.reqPerSec)),
    r.slices.map((s) => int(s.reqPerSec)).join(" / "),
    r.target === "bare" ? "1 (baseline)" : ratio(median(r.ratios), 1),
    `${med(r, (s) => s.latencyP50)} ms`,
    `${med(r, (s) => s.latencyP99)} ms`,
    r.perCommit === undefined ? "–" : r.perCommit.toFixed(1),
    int(r.slices.reduce((a, s) => a + s.failures, 0)),
  ]);
  const targets: TargetResult[] = results
    .filter((r) => r.target !== "bare" && r.target !== "etcd")
    .map((r) => {
      const failures = r.slices.reduce((a, s) => a + s.failures, 0);
      return {
        what: `PUT req/s, ${r.label}, vs bare hono`,
        target: "≥ 0.8×",
        measured: `${int(med(r, (s) => s.reqPerSec))} req/s = ${ratio(median(r.ratios), 1)}`,
        pass: failures === 0 && median(r.ratios) >= 0.8,
      };
    });
  const body = [
    "Load generator: **autocannon 9** (programmatic, in the orchestrator process; each server is its own child",
    `process). ${settings.connections} keep-alive connections, closed loop, pipelining 1. Every server is started`,
    `first and warmed for ${settings.warmSeconds} s (discarded); then ${settings.slices} rounds give each server one`,
    `${settings.sliceSeconds} s slice in turn. Connection i always sends`,
    '`PUT /provider {"name":"bench/put/c<i>","value":{"n":<counter>,…}}` (~90 bytes), so every request changes',
    "its register. The baseline is the bare hono route `PUT /provider → c.json(await c.req.json())`",
    "(test/bench/servers/bare-hono.ts) on the same @hono/node-server. The ratio is the median over rounds of",
    '(slice req/s ÷ the baseline\'s slice req/s in the same round). "revisions per commit" is',
    "`switchboard_revision ÷ switchboard_commits` after the run: how many writes shared one group commit",
    "(one write() + one fsync on strict, one write() on relaxed, nothing on :memory:).",
    "",
    table(
      [
        "server",
        "req/s (median)",
        "req/s per slice",
        "vs bare hono",
        "latency p50",
        "latency p99",
        "revisions per commit",
        "failures",
      ],
      rows,
    ),
    "",
    "Latencies are autocannon's, in whole milliseconds (medians over the slices).",
  ].join("\n");
  return { title: "3. Provider PUT throughput", body, targets };
}
