// Benchmarks 1 and 2: put → consumer wake latency with 1…10,000 held long-polls, and server RSS while they are held.
//
// For each size N, fresh server children (Switchboard with the default file store and strict durability, and
// the bare hono baseline; etcd's watch streams at the sizes it is asked for) each get N waits from their own
// load workers. Rounds alternate between the systems (A, B, C, A, B, C …) so that a burst of other load on
// this shared machine hits all of them alike. A round: arm the waits (a long-poll with the current index, and
// a check that the server holds N of them), take t0, send the write, and take each answer's arrival time.

import { nowMs, type ServerChild, sleep } from "./lib/children.js";
import type { Section, TargetResult } from "./lib/report.js";
import { int, kib, median, mib, ms, percentile, ratio, table } from "./lib/stats.js";
import { etcdWatchDriver, longPollDriver, type WakeDriver, type WakeKind } from "./lib/wake-drivers.js";

export interface WakeResult {
  readonly kind: WakeKind;
  readonly label: string;
  readonly consumers: number;
  readonly workers: number;
  readonly rounds: number;
  /** per-consumer latency (ms) of every measured round, pooled */
  readonly perConsumer: number[];
  /** latency of the last consumer of each measured round (ms) */
  readonly last: number[];
  /** time from sending the write to its own acknowledgement (ms) */
  readonly writeAck: number[];
  bad: number;
  badSample?: string;
  rssIdle: number;
  rssHeld: number;
}

export interface WakeSettings {
  readonly sizes: readonly number[];
  /** sizes at which etcd watchers are measured too (when an etcd is given) */
  readonly etcdSizes: readonly number[];
  /** measured rounds (after one warm-up round) for a size */
  readonly rounds: (n: number) => number;
}

export const DEFAULT_WAKE_SETTINGS: WakeSettings = {
  sizes: [1, 100, 1000, 10_000],
  etcdSizes: [100, 1000],
  rounds: (n) => (n <= 100 ? 20 : n <= 1000 ? 10 : 5),
};

/** One size: the drivers' rounds interleaved, one warm-up round (which also opens the connections) dropped. */
export async function measureSize(
  consumers: number,
  drivers: readonly WakeDriver[],
  rounds: number,
): Promise<WakeResult[]> {
  const results: WakeResult[] = [];
  for (const d of drivers) {
    results.push({
      kind: d.kind,
      label: d.label,
      consumers,
      workers: d.workers,
      rounds,
      perConsumer: [],
      last: [],
      writeAck: [],
      bad: 0,
      rssIdle: await d.rss(),
      rssHeld: Number.NaN,
    });
  }
  for (let round = 1; round <= rounds + 1; round++) {
    for (const [i, d] of drivers.entries()) {
      const r = results[i]!;
      await d.arm(round);
      if (round === 1) {
        await sleep(500);
        r.rssHeld = await d.rss();
      }
      const t0 = nowMs();
      const [ackAt, answers] = await Promise.all([d.write(round).then(nowMs), d.collect()]);
      if (round === 1) continue;
      r.bad += answers.bad;
      if (answers.badSample !== undefined) r.badSample ??= answers.badSample;
      const latencies = answers.times.map((t) => t - t0);
      for (const l of latencies) r.perConsumer.push(l);
      r.last.push(Math.max(...latencies));
      r.writeAck.push(ackAt - t0);
    }
  }
  return results;
}

export async function runWakeBench(
  settings: WakeSettings,
  etcd: ServerChild | null,
  log: (s: string) => void = () => undefined,
): Promise<{ sections: Section[]; results: WakeResult[] }> {
  const results: WakeResult[] = [];
  const failures: string[] = [];
  for (const n of settings.sizes) {
    const drivers: WakeDriver[] = [];
    try {
      drivers.push(await longPollDriver("switchboard", n));
      drivers.push(await longPollDriver("bare", n));
      if (etcd && settings.etcdSizes.includes(n)) drivers.push(await etcdWatchDriver(etcd, n));
      for (const r of await measureSize(n, drivers, settings.rounds(n))) {
        log(
          `  ${r.label.padEnd(27)} N=${String(n).padStart(6)}: p50 ${ms(percentile(r.perConsumer, 50))}, p99 ${ms(percentile(r.perConsumer, 99))}, last ${ms(median(r.last))}, RSS held ${mib(r.rssHeld)}, bad ${r.bad}`,
        );
        results.push(r);
      }
    } catch (err) {
      // One size failing (a stuck connection, a slow machine) is reported, and the other sizes still run.
      const message = `N=${int(n)}: ${(err as Error).message}`;
      log(`  FAILED ${message}`);
      failures.push(message);
    } finally {
      for (const d of drivers) await d.close();
    }
  }
  return { sections: [wakeSection(results, failures), memorySection(results)], results };
}

export function find(results: readonly WakeResult[], kind: WakeKind, n: number): WakeResult | undefined {
  return results.find((r) => r.kind === kind && r.consumers === n);
}

export function wakeRow(r: WakeResult, base: WakeResult | undefined): string[] {
  return [
    r.label,
    int(r.consumers),
    `${r.rounds} × ${int(r.consumers)}`,
    ms(percentile(r.perConsumer, 50)),
    ms(percentile(r.perConsumer, 99)),
    `${ms(median(r.last))} / ${ms(Math.max(...r.last))}`,
    ms(median(r.writeAck)),
    base && base !== r ? ratio(percentile(r.perConsumer, 99), percentile(base.perConsumer, 99)) : "1 (baseline)",
    base && base !== r ? ratio(median(r.last), median(base.last)) : "1 (baseline)",
    String(r.bad),
  ];
}

export const WAKE_HEAD = [
  "server",
  "consumers",
  "rounds × waits",
  "p50",
  "p99",
  "last consumer (median / worst round)",
  "write ack (median)",
  "p99 vs baseline",
  "last vs baseline",
  "bad answers",
];

function wakeSection(results: readonly WakeResult[], failures: readonly string[]): Section {
  const sizes = [...new Set(results.map((r) => r.consumers))];
  const rows = sizes.flatMap((n) => {
    const bare = find(results, "bare", n);
    return results.filter((r) => r.consumers === n && r.kind !== "etcd").map((r) => wakeRow(r, bare));
  });
  const targets: TargetResult[] = [];
  const at1000 = find(results, "switchboard", 1000);
  if (at1000) {
    const p99 = percentile(at1000.perConsumer, 99);
    targets.push({
      what: "wake p99, 1,000 consumers",
      target: "< 100 ms",
      measured: ms(p99),
      pass: p99 < 100 && at1000.bad === 0,
    });
  }
  const bad = results.filter((r) => r.bad > 0);
  const body = [
    "Each size N gets fresh server children. Load workers (N ≥ 1,000: two processes per server, else one;",
    "node:http with a keep-alive Agent holding one socket per wait) hold N",
    "`GET /consumer?name=bench/wake&index=I&wait=60s`; the orchestrator waits until the server reports N held",
    '(`switchboard_waiters{kind="consumer"}` in `/metrics`; the baseline\'s `/waiters`), takes t0 and sends',
    "`PUT /provider {name, value: {round}}`. Each worker stamps the moment each response has fully arrived",
    "(process.hrtime: CLOCK_MONOTONIC, the same clock in every process) and checks it carries the new value.",
    "Latency = stamp − t0: the PUT's parsing and group commit (one fsync), waking every waiter, building and",
    "writing N responses, and the clients reading them. One warm-up round (which also opens the connections)",
    "is dropped; p50/p99 pool every consumer of every measured round. Rounds of Switchboard and the baseline",
    "alternate, so both see the same background load. The readiness check scrapes `/metrics` every 50 ms while",
    "the polls are being armed (prom-client's default collectors list every open fd and handle, which costs the",
    "server's loop more as N grows); that happens before t0, outside the timed window.",
    "",
    "The baseline is `test/bench/servers/bare-hono.ts`: the same hono + @hono/node-server stack, where",
    "`PUT /provider` answers every held `GET /consumer` with `c.json(body)` — no core, no storage, no middleware.",
    "",
    table(WAKE_HEAD, rows),
    ...(failures.length > 0 ? ["", `**Sizes that failed in this run:** ${failures.join("; ")}`] : []),
    ...(bad.length > 0
      ? [
          "",
          `Bad answers (not 200 with the new value): ${bad.map((r) => `${r.label} N=${r.consumers}: ${r.bad} (${r.badSample ?? ""})`).join("; ")}`,
        ]
      : []),
  ].join("\n");
  return { title: "1. Put → consumer wake latency", body, targets };
}

function memorySection(results: readonly WakeResult[]): Section {
  const sizes = [...new Set(results.map((r) => r.consumers))].filter((n) => n >= 100);
  const perWait = (r: WakeResult | undefined) => (r ? (r.rssHeld - r.rssIdle) / r.consumers : Number.NaN);
  const rows = sizes.map((n) => {
    const sb = find(results, "switchboard", n);
    const bare = find(results, "bare", n);
    return [
      int(n),
      mib(sb?.rssIdle ?? Number.NaN),
      mib(sb?.rssHeld ?? Number.NaN),
      kib(perWait(sb)),
      mib(bare?.rssIdle ?? Number.NaN),
      mib(bare?.rssHeld ?? Number.NaN),
      kib(perWait(bare)),
      ratio(perWait(sb), perWait(bare)),
    ];
  });
  const max = Math.max(...sizes);
  const top = find(results, "switchboard", max);
  const targets: TargetResult[] = top
    ? [
        {
          what: `server RSS with ${int(max)} idle long-polls held`,
          target: "< 1 GB",
          measured: mib(top.rssHeld),
          pass: top.rssHeld < 1e9,
        },
      ]
    : [];
  const body = [
    "Taken in the warm-up round of benchmark 1, 0.5 s after the server reported all N polls held: VmRSS of the",
    'server child from `/proc/<pid>/status`. "Idle" is the same child before any poll was sent (after one PUT).',
    "The baseline is the bare hono server holding the same number of pending requests.",
    "",
    table(
      [
        "idle polls held",
        "Switchboard RSS idle",
        "Switchboard RSS held",
        "per poll",
        "bare hono RSS idle",
        "bare hono RSS held",
        "per poll",
        "per poll vs baseline",
      ],
      rows,
    ),
  ].join("\n");
  return { title: "2. Idle long-polls held and server memory", body, targets };
}
