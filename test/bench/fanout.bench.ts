// Fan-out at the floor: N waiters on one register woken by one write, on Switchboard and on bare node:http
// servers that answer every waiter with one shared Buffer (the floors), side by side, rounds alternating:
//
// - N held long-polls: Switchboard `GET /consumer` against test/bench/servers/bare-node.ts;
// - N SSE streams: Switchboard `GET /events` against test/bench/servers/bare-sse.ts, and etcd's watch streams
//   (its JSON gateway) at the sizes where etcd is given.
//
// Per round and server: PUT → each waiter's answer (or frame), the server child's CPU time and V8 heap
// allocation over the round (test/bench/workers/heap-probe.mjs); and at the stall sizes, in extra rounds, the
// longest answer of a cheap unrelated GET sent back to back while the long-polls are woken.

import { nowMs, type ServerChild, SWITCHBOARD_NODE_FLAGS, sleep } from "./lib/children.js";
import type { Section, TargetResult } from "./lib/report.js";
import { int, kib, mib, ms, percentile, ratio, table } from "./lib/stats.js";
import {
  clientDriver,
  etcdWatchDriver,
  expect,
  longPollDriver,
  type ServerSample,
  sseDriver,
  startWorkers,
  type WakeDriver,
  type WakeKind,
} from "./lib/wake-drivers.js";

export interface FanoutSettings {
  /** waiters per server: every size runs long-polls and SSE streams */
  readonly sizes: readonly number[];
  /** measured rounds at a size (after the warm-up rounds) */
  readonly rounds: (n: number) => number;
  /** rounds dropped at the start of every size (they also open the connections) */
  readonly warmup: number;
  /** sizes at which the stall probe runs, in extra long-poll rounds after the measured ones */
  readonly stallSizes: readonly number[];
  /** those extra rounds per long-poll server (not counted in the latency and CPU figures) */
  readonly stallRounds: number;
  /** sizes at which etcd's watch streams join the rounds (when an etcd is given) */
  readonly etcdSizes: readonly number[];
  /** sizes at which one @switchboard/client with that many subscriptions joins the rounds */
  readonly clientSizes: readonly number[];
}

export const DEFAULT_FANOUT_SETTINGS: FanoutSettings = {
  sizes: [1000, 10_000],
  rounds: (n) => (n <= 1000 ? 100 : 20),
  warmup: 5,
  stallSizes: [10_000],
  stallRounds: 10,
  etcdSizes: [1000],
  clientSizes: [1000],
};

/** `--quick`: one size, a handful of rounds; the stall probe runs at that size so that it is exercised. */
export const QUICK_FANOUT_SETTINGS: FanoutSettings = {
  sizes: [1000],
  rounds: () => 5,
  warmup: 1,
  stallSizes: [1000],
  stallRounds: 3,
  etcdSizes: [1000],
  clientSizes: [1000],
};

export interface FanoutResult {
  readonly kind: WakeKind;
  readonly label: string;
  readonly consumers: number;
  readonly rounds: number;
  readonly warmup: number;
  /** per-waiter latency (ms) of every measured round, pooled */
  readonly perConsumer: number[];
  /** latency of the last waiter of each measured round (ms) */
  readonly last: number[];
  /** time from sending the write to its own acknowledgement (ms) */
  readonly writeAck: number[];
  /** server CPU (ms) per measured round, from just before the write to the last answer */
  readonly cpuMs: number[];
  /** V8 heap bytes the server allocated per measured round (NaN without the heap probe) */
  readonly allocated: number[];
  readonly scavenges: number[];
  readonly markSweeps: number[];
  /** longest latency (ms) of the stall probe's requests in each of its rounds (stall sizes only) */
  readonly stalls: number[];
  stallRequests: number;
  stallFailed: number;
  bad: number;
  badSample?: string;
  rssHeld: number;
}

const bytes = (b: number) => (Math.abs(b) >= 1024 * 1024 ? mib(b) : kib(b));
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : sum(xs) / xs.length);

/**
 * One size: the drivers' rounds interleaved (A, B, C, A, B, C …), the first `warmup` rounds dropped; then
 * `stallRounds` more rounds of the drivers in `stallKinds` with the stall probe running, which count only
 * for the stall.
 */
async function measure(
  consumers: number,
  drivers: readonly WakeDriver[],
  rounds: number,
  warmup: number,
  stallKinds: ReadonlySet<WakeKind>,
  stallRounds: number,
): Promise<FanoutResult[]> {
  const results: FanoutResult[] = drivers.map((d) => ({
    kind: d.kind,
    label: d.label,
    consumers,
    rounds,
    warmup,
    perConsumer: [],
    last: [],
    writeAck: [],
    cpuMs: [],
    allocated: [],
    scavenges: [],
    markSweeps: [],
    stalls: [],
    stallRequests: 0,
    stallFailed: 0,
    bad: 0,
    rssHeld: Number.NaN,
  }));
  for (let round = 1; round <= warmup + rounds; round++) {
    for (const [i, d] of drivers.entries()) {
      const r = results[i]!;
      await d.arm(round);
      if (round === 1) {
        await sleep(500);
        r.rssHeld = await d.rss();
      }
      if (round <= warmup) {
        await Promise.all([d.write(round), d.collect()]);
        continue;
      }
      const before: ServerSample = await d.sample();
      const t0 = nowMs();
      const [ackAt, answers] = await Promise.all([d.write(round).then(nowMs), d.collect()]);
      const after: ServerSample = await d.sample();
      r.bad += answers.bad;
      if (answers.badSample !== undefined) r.badSample ??= answers.badSample;
      const latencies = answers.times.map((t) => t - t0);
      for (const l of latencies) r.perConsumer.push(l);
      r.last.push(Math.max(...latencies));
      r.writeAck.push(ackAt - t0);
      r.cpuMs.push(after.cpuMs - before.cpuMs);
      r.allocated.push(after.allocated - before.allocated);
      r.scavenges.push(after.scavenges - before.scavenges);
      r.markSweeps.push(after.markSweeps - before.markSweeps);
    }
  }
  const probed = drivers.filter((d) => stallKinds.has(d.kind) && d.stallTarget);
  if (probed.length === 0 || stallRounds === 0) return results;
  const [stallWorker] = startWorkers(1);
  try {
    for (let round = warmup + rounds + 1; round <= warmup + rounds + stallRounds; round++) {
      for (const d of probed) {
        const r = results[drivers.indexOf(d)]!;
        const target = d.stallTarget!;
        await d.arm(round);
        stallWorker!.send({ type: "stall-start", url: target.url, path: target.path });
        expect(await stallWorker!.next(), "armed");
        const [, answers] = await Promise.all([d.write(round), d.collect()]);
        stallWorker!.send({ type: "stall-stop" });
        const s = expect(await stallWorker!.next(), "stall");
        r.stalls.push(s.maxMs);
        r.stallRequests += s.count;
        r.stallFailed += s.failed;
        r.bad += answers.bad;
        if (answers.badSample !== undefined) r.badSample ??= answers.badSample;
      }
    }
  } finally {
    await stallWorker!.close();
  }
  return results;
}

const cpuPerChange = (r: FanoutResult | undefined) => (r ? mean(r.cpuMs) : Number.NaN);

function describe(r: FanoutResult): string {
  const stall = r.stalls.length > 0 ? `, stall max ${ms(Math.max(...r.stalls))}` : "";
  const heap = Number.isFinite(mean(r.allocated))
    ? `, heap ${bytes(mean(r.allocated))}/change (${mean(r.scavenges).toFixed(1)} scavenges)`
    : "";
  return `  ${r.label.padEnd(27)} N=${String(r.consumers).padStart(6)}: p50 ${ms(percentile(r.perConsumer, 50))}, p90 ${ms(percentile(r.perConsumer, 90))}, p99 ${ms(percentile(r.perConsumer, 99))}, write ack p50 ${ms(percentile(r.writeAck, 50))}, CPU ${ms(mean(r.cpuMs))}/change${heap}${stall}, bad ${r.bad}`;
}

export async function runFanoutBench(
  settings: FanoutSettings,
  log: (s: string) => void,
  etcd: ServerChild | null = null,
  etcdFailure: string | null = "not started for this run",
): Promise<Section> {
  const results: FanoutResult[] = [];
  const failures: string[] = [];
  for (const n of settings.sizes) {
    const drivers: WakeDriver[] = [];
    const starts: [string, () => Promise<WakeDriver>][] = [
      ["Switchboard long-polls", () => longPollDriver("switchboard", n)],
      ["floor long-polls", () => longPollDriver("floor", n)],
      ["Switchboard SSE", () => sseDriver("sse", n)],
      ["SSE floor", () => sseDriver("sse-floor", n)],
      ...(settings.clientSizes.includes(n)
        ? [["client subscriptions", () => clientDriver(n)] as [string, () => Promise<WakeDriver>]]
        : []),
      ...(etcd && settings.etcdSizes.includes(n)
        ? [["etcd watches", () => etcdWatchDriver(etcd, n)] as [string, () => Promise<WakeDriver>]]
        : []),
    ];
    try {
      for (const [what, start] of starts) {
        try {
          drivers.push(await start());
        } catch (err) {
          // One system failing to start (fd limits, a slow machine) is reported; the others still run.
          const message = `N=${int(n)}, ${what}: ${(err as Error).message}`;
          log(`  FAILED ${message}`);
          failures.push(message);
        }
      }
      const stallKinds = new Set<WakeKind>(settings.stallSizes.includes(n) ? ["switchboard", "floor"] : []);
      for (const r of await measure(
        n,
        drivers,
        settings.rounds(n),
        settings.warmup,
        stallKinds,
        settings.stallRounds,
      )) {
        log(describe(r));
        results.push(r);
      }
    } catch (err) {
      const message = `N=${int(n)}: ${(err as Error).message}`;
      log(`  FAILED ${message}`);
      failures.push(message);
    } finally {
      for (const d of drivers) await d.close();
    }
  }
  return fanoutSection(settings, results, failures, etcd ? null : etcdFailure);
}

function fanoutSection(
  settings: FanoutSettings,
  results: readonly FanoutResult[],
  failures: readonly string[],
  etcdMissing: string | null,
): Section {
  const find = (kind: WakeKind, n: number) => results.find((r) => r.kind === kind && r.consumers === n);
  const floorOf: Partial<Record<WakeKind, WakeKind>> = { switchboard: "floor", sse: "sse-floor" };
  const rows: string[][] = [];
  for (const n of settings.sizes) {
    for (const kind of ["switchboard", "floor", "sse", "sse-floor", "client", "etcd"] as const) {
      const r = find(kind, n);
      if (!r) continue;
      const base = floorOf[kind] ? find(floorOf[kind]!, n) : undefined;
      const alloc = mean(r.allocated);
      rows.push([
        r.label,
        int(n),
        `${r.rounds} × ${int(n)} (+${r.warmup})`,
        ms(percentile(r.perConsumer, 50)),
        ms(percentile(r.perConsumer, 90)),
        ms(percentile(r.perConsumer, 99)),
        ms(percentile(r.last, 50)),
        ms(percentile(r.writeAck, 50)),
        ms(cpuPerChange(r)),
        Number.isFinite(alloc)
          ? `${bytes(alloc)} (${kib(alloc / n)} per waiter) / ${mean(r.scavenges).toFixed(2)}`
          : "n/a",
        mib(r.rssHeld),
        base
          ? `${ratio(percentile(r.perConsumer, 50), percentile(base.perConsumer, 50))} / ${ratio(cpuPerChange(r), cpuPerChange(base))}`
          : "",
        r.stalls.length > 0
          ? `${ms(Math.max(...r.stalls))} (${r.stalls.length} rounds, ${int(r.stallRequests)} req)`
          : "",
        String(r.bad),
      ]);
    }
  }

  const targets: TargetResult[] = [];
  const lp1k = find("switchboard", 1000);
  const floor1k = find("floor", 1000);
  if (lp1k && floor1k) {
    const p50 = percentile(lp1k.perConsumer, 50);
    const f50 = percentile(floor1k.perConsumer, 50);
    targets.push({
      what: "1,000 long-polls: Switchboard p50 vs the bare node:http floor",
      target: "≤ 1.15×",
      measured: `${ms(p50)} vs ${ms(f50)} (${ratio(p50, f50)})`,
      pass: p50 <= 1.15 * f50,
    });
    const c = cpuPerChange(lp1k);
    const fc = cpuPerChange(floor1k);
    targets.push({
      what: "1,000 long-polls: server CPU per change vs the floor",
      target: "≤ 1.5×",
      measured: `${ms(c)} vs ${ms(fc)} (${ratio(c, fc)})`,
      pass: c <= 1.5 * fc,
    });
  } else {
    targets.push({
      what: "1,000 long-polls: Switchboard p50 and CPU per change vs the floor",
      target: "≤ 1.15× / ≤ 1.5×",
      measured: "not measured: no 1,000 long-poll rounds of both servers in this run",
      pass: null,
    });
  }
  const lp10k = find("switchboard", 10_000);
  const floor10k = find("floor", 10_000);
  if (lp10k && floor10k) {
    const p99 = percentile(lp10k.perConsumer, 99);
    const f99 = percentile(floor10k.perConsumer, 99);
    targets.push({
      what: "10,000 long-polls: Switchboard p99 vs the floor",
      target: "≤ 1.2×",
      measured: `${ms(p99)} vs ${ms(f99)} (${ratio(p99, f99)})`,
      pass: p99 <= 1.2 * f99,
    });
  } else {
    targets.push({
      what: "10,000 long-polls: Switchboard p99 vs the floor",
      target: "≤ 1.2×",
      measured: settings.sizes.includes(10_000)
        ? "not measured: the 10,000 rounds failed (see the section)"
        : "not measured: 10,000 is not a size of this run",
      pass: null,
    });
  }
  const stallAt = [...settings.stallSizes]
    .sort((a, b) => b - a)
    .find((n) => (find("switchboard", n)?.stalls.length ?? 0) > 0);
  const stallOf = stallAt === undefined ? undefined : find("switchboard", stallAt);
  const stallFloor = stallAt === undefined ? undefined : find("floor", stallAt);
  if (stallOf && stallAt === 10_000) {
    const worst = Math.max(...stallOf.stalls);
    targets.push({
      what: "10,000 long-polls: longest stall of an unrelated request (GET /healthz) during the wake",
      target: "< 50 ms",
      measured: `${ms(worst)} (worst of ${stallOf.stalls.length} rounds; median round ${ms(percentile(stallOf.stalls, 50))}; the floor: ${stallFloor ? ms(Math.max(...stallFloor.stalls)) : "n/a"})`,
      pass: worst < 50 && stallOf.stallFailed === 0,
    });
  } else {
    targets.push({
      what: "10,000 long-polls: longest stall of an unrelated request (GET /healthz) during the wake",
      target: "< 50 ms",
      measured: stallOf
        ? `not measured at 10,000 in this run; at ${int(stallAt!)}: ${ms(Math.max(...stallOf.stalls))}`
        : "not measured: no 10,000 long-poll rounds in this run",
      pass: null,
    });
  }
  const sse1k = find("sse", 1000);
  const sseFloor1k = find("sse-floor", 1000);
  const etcd1k = find("etcd", 1000);
  if (sse1k && etcd1k) {
    const p50 = percentile(sse1k.perConsumer, 50);
    const p90 = percentile(sse1k.perConsumer, 90);
    const e50 = percentile(etcd1k.perConsumer, 50);
    const e90 = percentile(etcd1k.perConsumer, 90);
    targets.push(
      {
        what: "1,000 SSE streams: Switchboard p50 vs etcd's 1,000 watchers",
        target: "≤ 0.8×",
        measured: `${ms(p50)} vs ${ms(e50)} (${ratio(p50, e50)})`,
        pass: p50 <= 0.8 * e50,
      },
      {
        what: "1,000 SSE streams: Switchboard p90 vs etcd's 1,000 watchers",
        target: "≤ 0.7×",
        measured: `${ms(p90)} vs ${ms(e90)} (${ratio(p90, e90)})`,
        pass: p90 <= 0.7 * e90,
      },
    );
  } else {
    const why = !sse1k
      ? "no 1,000 SSE rounds in this run"
      : etcdMissing
        ? `etcd was not measured (${etcdMissing})`
        : "no etcd 1,000-watcher rounds in this run";
    targets.push({
      what: "1,000 SSE streams: Switchboard p50 / p90 vs etcd's 1,000 watchers",
      target: "≤ 0.8× / ≤ 0.7×",
      measured: `not measured: ${why}${sse1k ? ` (Switchboard SSE p50 ${ms(percentile(sse1k.perConsumer, 50))}, p90 ${ms(percentile(sse1k.perConsumer, 90))})` : ""}`,
      pass: null,
    });
  }
  const client1k = find("client", 1000);
  if (client1k && etcd1k) {
    const p99 = percentile(client1k.perConsumer, 99);
    const e99 = percentile(etcd1k.perConsumer, 99);
    targets.push({
      what: "@switchboard/client, 1,000 subscriptions on one shared poll: p99 vs etcd's 1,000 watchers",
      target: "≤ 0.3×",
      measured: `${ms(p99)} vs ${ms(e99)} (${ratio(p99, e99)})`,
      pass: p99 <= 0.3 * e99,
    });
  } else {
    targets.push({
      what: "@switchboard/client, 1,000 subscriptions on one shared poll: p99 vs etcd's 1,000 watchers",
      target: "≤ 0.3×",
      measured: `not measured: ${!client1k ? "no 1,000-subscription client rounds in this run" : `etcd was not measured (${etcdMissing ?? "no 1,000-watcher rounds"})`}`,
      pass: null,
    });
  }
  if (sse1k && sseFloor1k) {
    const c = cpuPerChange(sse1k);
    const fc = cpuPerChange(sseFloor1k);
    targets.push({
      what: "1,000 SSE streams: server CPU per change vs the bare SSE floor",
      target: "≤ 1.3×",
      measured: `${ms(c)} vs ${ms(fc)} (${ratio(c, fc)})`,
      pass: c <= 1.3 * fc,
    });
  } else {
    targets.push({
      what: "1,000 SSE streams: server CPU per change vs the bare SSE floor",
      target: "≤ 1.3×",
      measured: "not measured: no 1,000 SSE rounds of both servers in this run",
      pass: null,
    });
  }

  const bad = results.filter((r) => r.bad > 0 || r.stallFailed > 0);
  const body = [
    "N waiters on one register, woken by one `PUT /provider {name: bench/wake, value: {round}}`; per-waiter",
    "latency from sending the write to the moment each answer (long-poll) or `set` frame (SSE) has fully",
    "arrived in a load worker (CLOCK_MONOTONIC in every process). Side by side in one run, rounds alternating",
    "between every system (A, B, C, … A, B, C …), the first rounds dropped as warm-up (they also open the",
    `connections): ${settings.sizes.map((n) => `${int(n)}: ${settings.rounds(n)} measured + ${settings.warmup} warm-up rounds`).join("; ")}.`,
    "",
    "- **Long-polls**: Switchboard `GET /consumer?name=bench/wake&index=I&wait=60s` (re-armed every round; the",
    "  round starts once `/metrics` reports N held) against the floor, bare node:http answering the write and",
    "  then every held request with one shared Buffer (`writeHead` + `end`; test/bench/servers/bare-node.ts).",
    "- **SSE**: N streams opened once on Switchboard's `GET /events?prefix=bench/wake` (the SSE hub's shared",
    "  live feed) against the SSE floor, bare node:http writing one shared frame Buffer (shaped like",
    "  Switchboard's `set` frame) to every held `text/event-stream` response (test/bench/servers/bare-sse.ts).",
    `  etcd's watch streams join the rounds at ${settings.etcdSizes.map(int).join(", ")}: one \`POST /v3/watch\` stream per`,
    "  watcher through etcd's HTTP/JSON gateway (not etcd's gRPC client, which carries every watcher over",
    "  one shared stream), the same workers and rounds.",
    `- **Client**: at ${settings.clientSizes.map(int).join(", ")}, one \`@switchboard/client\` in a worker process with N`,
    '  `consume("bench/wake")` subscriptions, which share the client\'s one consumer long-poll; the time is',
    "  when each subscription's iterator yields the round's value (test/bench/workers/client-worker.ts).",
    "- **Server CPU per change**: user + system CPU of every thread of the server child (the sum of",
    "  `/proc/<pid>/task/*/schedstat`), read just before the write and after the last answer of each measured",
    "  round; the mean over the measured rounds. Long-poll re-arming happens outside that window.",
    "- **Heap per change**: V8 heap bytes the server allocated over the same window, and the young-generation",
    "  collections (scavenges) in it. Switchboard exposes no GC or allocation counters (`src/metrics.ts` keeps",
    "  prom-client's default collectors off), so the server children of this section load",
    "  test/bench/workers/heap-probe.mjs (`NODE_OPTIONS=--import`), which only observes: allocated = heap used",
    "  now − heap used at start + every byte a GC freed (`v8.GCProfiler`). Buffers' off-heap bytes are not in it.",
    `- **Stall**: at ${settings.stallSizes.map(int).join(", ")}, ${settings.stallRounds} more long-poll rounds per server after the measured ones`,
    "  (alternating, not counted in the other columns): a separate worker sends one cheap GET after another",
    "  (Switchboard `GET /healthz`, the floor `GET /waiters`), one in flight, from before the write until the",
    "  last answer; the column is the longest of those requests in any of these rounds. The probe worker runs",
    "  at a raised priority where allowed (nice −10), so that its figure is the server's delay more than its own",
    "  wait for one of the cores the load workers keep busy; on a loaded machine it still includes some.",
    `- Switchboard runs in a child with the node flags of the \`switchboard\` binary's first line (\`${SWITCHBOARD_NODE_FLAGS.join(" ")}\`),`,
    "  file store, strict durability; the bare servers with node's defaults.",
    "",
    table(
      [
        "server",
        "waiters",
        "rounds × waiters (+ warm-up)",
        "p50",
        "p90",
        "p99",
        "last waiter (median)",
        "write ack p50",
        "server CPU per change",
        "heap allocated / scavenges per change",
        "RSS held",
        "p50 / CPU vs floor",
        "longest stall",
        "bad answers",
      ],
      rows,
    ),
    ...(failures.length > 0 ? ["", `**Failed in this run:** ${failures.join("; ")}`] : []),
    ...(bad.length > 0
      ? [
          "",
          `Bad answers (not the round's value) or failed stall requests: ${bad.map((r) => `${r.label} N=${r.consumers}: ${r.bad} bad, ${r.stallFailed} stall requests not 200 (${r.badSample ?? ""})`).join("; ")}`,
        ]
      : []),
  ].join("\n");
  return { title: "Fan-out at the floor", body, targets };
}
