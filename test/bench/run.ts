// `npm run bench`: runs every benchmark against child-process servers on 127.0.0.1 and rewrites docs/benchmarks.md.
//
// Flags: --quick (a short smoke run with smaller sizes; still rewrites the doc, marked as quick),
//        --no-etcd (skip the etcd baseline), --out=<file> (write elsewhere than docs/benchmarks.md),
//        --only=proxy (only the TCP proxy section; use with --out),
//        --only=auth (only the auth on/off cost; use with --out),
//        --only=cluster (only the cluster section: three nodes on the local JetStream; use with --out),
//        --only=fanout (only the fan-out section: long-polls and SSE against their floors, with etcd unless
//        --no-etcd; use with --out),
//        --only=idle (only the idle long-polls section: 50,000 held, RSS and idle CPU; use with --out),
//        --only=put (only the PUT throughput section, against bare hono and etcd; use with --out),
//        --only=wake (only the wake latency and held-poll memory sections; use with --out).
// Every Switchboard child is the built binary (dist/cli.js): the run builds it first, unless
// SWITCHBOARD_TEST_BUILT=1 says it is built already.
// Env:   BENCH_CPU_PROF=<dir> writes a .cpuprofile of every server child (see profile-summary.ts).

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { type AuthSettings, DEFAULT_AUTH_SETTINGS, runAuthBench } from "./auth.bench.js";
import { DEFAULT_CLUSTER_SETTINGS, runClusterBench } from "./cluster.bench.js";
import { etcdSection } from "./etcd.bench.js";
import { DEFAULT_FANOUT_SETTINGS, QUICK_FANOUT_SETTINGS, runFanoutBench } from "./fanout.bench.js";
import { DEFAULT_IDLE_SETTINGS, QUICK_IDLE_SETTINGS, runIdleBench } from "./idle-polls.bench.js";
import { BENCH_DIR, ensureBuilt, REPO_ROOT } from "./lib/children.js";
import { type Etcd, startEtcd } from "./lib/etcd.js";
import { closeAgent } from "./lib/http.js";
import { fsyncLatency } from "./lib/machine.js";
import { type Section, verdict } from "./lib/report.js";
import { ms, table } from "./lib/stats.js";
import { DEFAULT_PROXY_SETTINGS, type ProxySettings, runProxyBench } from "./proxy.bench.js";
import { DEFAULT_PUT_SETTINGS, type PutSettings, runPutBench } from "./put-throughput.bench.js";
import { DEFAULT_REGISTRY_SETTINGS, runRegistryBench } from "./registry.bench.js";
import { DEFAULT_WAKE_SETTINGS, runWakeBench, type WakeSettings } from "./wake-latency.bench.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyProxy = args.includes("--only=proxy");
const onlyAuth = args.includes("--only=auth");
const onlyCluster = args.includes("--only=cluster");
const onlyFanout = args.includes("--only=fanout");
const onlyIdle = args.includes("--only=idle");
const onlyPut = args.includes("--only=put");
const onlyWake = args.includes("--only=wake");
// The fan-out section sets Switchboard's SSE against etcd's watchers, so it starts etcd too.
const withEtcd = !args.includes("--no-etcd") && !onlyProxy && !onlyAuth && !onlyCluster && !onlyIdle;
const out = args.find((a) => a.startsWith("--out="))?.slice("--out=".length) ?? join(REPO_ROOT, "docs/benchmarks.md");

const wakeSettings: WakeSettings = quick
  ? { sizes: [1, 100, 1000], etcdSizes: [100], rounds: () => 3 }
  : DEFAULT_WAKE_SETTINGS;
const proxySettings: ProxySettings = quick
  ? { streamBytes: 32 * 1024 * 1024, streamRounds: 2, setups: 300 }
  : DEFAULT_PROXY_SETTINGS;
const putSettings: PutSettings = quick
  ? { ...DEFAULT_PUT_SETTINGS, warmSeconds: 1, slices: 1, sliceSeconds: 2 }
  : DEFAULT_PUT_SETTINGS;

const authSettings: AuthSettings = quick
  ? { connections: 32, slices: 3, sliceSeconds: 2, consumers: 200, rounds: 5 }
  : DEFAULT_AUTH_SETTINGS;

const log = (s: string) => console.log(s);
const sh = (cmd: string) => spawnSync("sh", ["-c", cmd], { encoding: "utf8" }).stdout.trimEnd();
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(" / ");

ensureBuilt();
const started = new Date();
const loadBefore = load();
const fsync = await fsyncLatency();
log(`switchboard benchmarks${quick ? " (quick)" : ""}: ${availableParallelism()} cores, node ${process.version}`);

let etcd: Etcd | null = null;
let etcdFailure: string | null = withEtcd ? null : "skipped with --no-etcd";
if (withEtcd) {
  try {
    etcd = await startEtcd();
    log(`etcd ${etcd.version} on ${etcd.url}`);
  } catch (err) {
    etcdFailure = (err as Error).message;
    log(`etcd: ${etcdFailure}`);
  }
}

const fanoutSettings = quick ? QUICK_FANOUT_SETTINGS : DEFAULT_FANOUT_SETTINGS;
const idleSettings = quick ? QUICK_IDLE_SETTINGS : DEFAULT_IDLE_SETTINGS;

const clusterSettings = quick
  ? { wakeRounds: 200, putSeconds: 2, putClients: 8, failovers: 2 }
  : DEFAULT_CLUSTER_SETTINGS;

let sections: Section[];
try {
  if (onlyCluster) {
    log("7. cluster");
    sections = [await runClusterBench(clusterSettings, log)];
  } else if (onlyProxy) {
    log("5. TCP proxy");
    sections = [await runProxyBench(proxySettings, log)];
  } else if (onlyAuth) {
    log("7. auth cost");
    sections = [await runAuthBench(authSettings, log)];
  } else if (onlyFanout) {
    log("fan-out at the floor");
    sections = [await runFanoutBench(fanoutSettings, log, etcd, etcdFailure)];
  } else if (onlyPut) {
    log("3. provider PUT throughput");
    sections = [(await runPutBench(putSettings, etcd, log)).section];
  } else if (onlyWake) {
    log("1-2. wake latency and held long-polls");
    sections = (await runWakeBench(wakeSettings, etcd, log)).sections;
  } else if (onlyIdle) {
    log("idle long-polls");
    sections = [await runIdleBench(idleSettings, log)];
  } else {
    log("3. provider PUT throughput");
    const put = await runPutBench(putSettings, etcd, log);
    log("1-2. wake latency and held long-polls");
    const wake = await runWakeBench(wakeSettings, etcd, log);
    log("fan-out at the floor");
    const fanout = await runFanoutBench(fanoutSettings, log, etcd, etcdFailure);
    log("idle long-polls");
    const idle = await runIdleBench(idleSettings, log);
    log("5. TCP proxy");
    const proxy = await runProxyBench(proxySettings, log);
    log("6. registry queries");
    const registry = await runRegistryBench(quick ? { records: 10_000, rounds: 200 } : DEFAULT_REGISTRY_SETTINGS, log);
    log("7. auth cost");
    const authCost = await runAuthBench(authSettings, log);
    log("8. cluster");
    const cluster = await runClusterBench(clusterSettings, log);
    sections = [
      ...wake.sections,
      put.section,
      etcdSection(etcd, etcdFailure, put.results, wake.results),
      fanout,
      idle,
      proxy,
      registry,
      authCost,
      cluster,
    ];
  }
} finally {
  await etcd?.stop();
  closeAgent();
}
const seconds = Math.round((Date.now() - started.getTime()) / 1000);
const loadAfter = load();

const targets = sections.flatMap((s) => s.targets);
const notesPath = join(BENCH_DIR, "NOTES.md");
const notes = existsSync(notesPath) ? readFileSync(notesPath, "utf8").trim() : "";
// Written by test/bench/large-state.bench.ts, which runs on its own (minutes and GBs of disk).
const largeStatePath = join(BENCH_DIR, "LARGE-STATE.md");
const largeState = existsSync(largeStatePath) ? readFileSync(largeStatePath, "utf8").trim() : "";
const doc = [
  "# Benchmarks",
  "",
  `<!-- Generated by \`npm run bench\` (test/bench/run.ts). Do not edit by hand: edit test/bench/NOTES.md or the benchmarks. -->`,
  "",
  `Run on ${started.toISOString()}${quick ? " with `--quick` (smaller sizes, fewer rounds: a smoke run, not figures to quote)" : ""}, in ${seconds} s.`,
  "Every figure is set against a baseline measured in the same run: a bare hono route on the same HTTP stack,",
  "and etcd where it could be started. Servers run as child processes; the load generators run in the",
  "orchestrator and in worker processes; everything is on 127.0.0.1.",
  "",
  "## Machine",
  "",
  table(
    ["", ""],
    [
      ["cores (`nproc`)", sh("nproc")],
      ["CPU", cpus()[0]?.model ?? "unknown"],
      ["kernel", release()],
      ["Node.js", process.version],
      ["open files (`ulimit -n`)", sh("ulimit -n")],
      ["200-byte append + fsync in the temp dir (p50 / p99)", `${ms(fsync.p50)} / ${ms(fsync.p99)}`],
      ["load average (1/5/15 min) before → after", `${loadBefore} → ${loadAfter}`],
    ],
  ),
  "",
  "```",
  "$ free -h",
  sh("free -h"),
  "```",
  "",
  "This machine is shared with other work (builds and test runs may overlap a bench run), and the load",
  "generators share its cores with the servers: absolute figures move between runs, which is why each",
  "measurement alternates with its baseline and the ratios are the figures to compare.",
  "",
  "## Targets",
  "",
  table(
    ["measure", "target", "measured", "verdict"],
    targets.map((t) => [t.what, t.target, t.measured, verdict(t.pass)]),
  ),
  "",
  ...sections.flatMap((s) => [`## ${s.title}`, "", s.body, ""]),
  ...(largeState ? [largeState, ""] : []),
  ...(notes ? [notes, ""] : []),
  "## Reproducing",
  "",
  "```sh",
  "npm run bench                      # everything (~10 min on 2 cores); builds dist/, rewrites docs/benchmarks.md",
  "npm run bench -- --only=put --out=/tmp/put.md   # one section (put, wake, fanout, idle, proxy, auth, cluster)",
  "npm run bench -- --quick           # smoke run with smaller sizes",
  "npm run bench -- --no-etcd         # without the etcd baseline",
  "node --import tsx test/bench/large-state.bench.ts   # large-state restart (~5-10 min, ~1 GB of disk); its section is kept",
  "BENCH_CPU_PROF=/tmp/prof npm run bench   # plus a .cpuprofile per server child",
  "node --import tsx test/bench/profile-summary.ts /tmp/prof/<file>.cpuprofile 30",
  "```",
  "",
  "etcd comes from Debian (`apt-get install -y etcd-server`); without it section 4 says so and the rest runs.",
  "The largest size holds 10,000 sockets on each side of two servers at once: `ulimit -n` must allow",
  "~12,000 per process.",
  "",
].join("\n");
await writeFile(out, doc);

log(`\nwrote ${out} (${seconds} s)`);
for (const t of targets)
  log(`  ${t.pass === null ? "–" : t.pass ? "met   " : "MISSED"} ${t.what}: ${t.measured} (target ${t.target})`);
