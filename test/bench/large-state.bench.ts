// Large states survive a restart: fills a server over HTTP, stops it, restarts it and reads everything back.
// Not part of `npm test` (minutes, GBs of disk). Writes test/bench/LARGE-STATE.md, which `npm run bench` puts
// into docs/benchmarks.md.
//
// Usage: node --import tsx test/bench/large-state.bench.ts [--quick]
//   scenario "64 KiB values": 10,000 registers of 64 KiB (~640 MiB of values, past V8's 512 MiB string limit)
//   scenario "100 B values":  1,000,000 registers of 100-byte values
// --quick divides the counts by 20 (a smoke run of the script itself).

import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_DIR, type ServerChild, startSwitchboardBinary } from "./lib/children.js";
import { table } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const log = (s: string) => console.log(s);

interface Scenario {
  readonly title: string;
  readonly count: number;
  readonly valueBytes: number;
  readonly perPut: number;
}

const SCENARIOS: Scenario[] = [
  { title: "10,000 × 64 KiB values", count: 10_000, valueBytes: 64 * 1024, perPut: 28 },
  { title: "1,000,000 × 100 B values", count: 1_000_000, valueBytes: 100, perPut: 1000 },
].map((s) => (quick ? { ...s, count: Math.ceil(s.count / 20) } : s));

// Serialised as JSON the value is exactly `bytes` long (the two quotes included), as the limit counts it.
const valueFor = (i: number, bytes: number) => `${i}:`.padEnd(bytes - 2, "v");
const nameOf = (i: number) => `big/${String(i).padStart(7, "0")}`;

function startServer(dataDir: string): Promise<ServerChild> {
  return startSwitchboardBinary("switchboard", {
    dataDir,
    env: { SWITCHBOARD_MAX_BODY_BYTES: String(2 * 1024 * 1024) },
    readyWithinMs: 300_000,
  });
}

async function peakRss(pid: number): Promise<number> {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? Number.NaN) * 1024;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size;
  return total;
}

async function fill(url: string, s: Scenario): Promise<void> {
  for (let start = 0; start < s.count; start += s.perPut) {
    const registers = [];
    for (let i = start; i < Math.min(start + s.perPut, s.count); i++) {
      registers.push({ name: nameOf(i), value: valueFor(i, s.valueBytes) });
    }
    const r = await fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify({ registers }) });
    if (r.status !== 200) throw new Error(`PUT answered ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
  }
}

/** Pages through /registers and checks every value; returns the number read. */
async function readBack(url: string, s: Scenario): Promise<number> {
  let cursor: string | null = null;
  let seen = 0;
  for (let page = 0; page < s.count; page++) {
    const q: string = `prefix=big/&limit=1000${cursor === null ? "" : `&cursor=${cursor}`}`;
    const body = (await (await fetch(`${url}/registers?${q}`)).json()) as {
      registers: Array<{ name: string; value: string }>;
      cursor: string | null;
    };
    for (const r of body.registers) {
      if (r.name !== nameOf(seen) || r.value !== valueFor(seen, s.valueBytes)) throw new Error(`${r.name} differs`);
      seen += 1;
    }
    cursor = body.cursor;
    if (cursor === null) return seen;
  }
  throw new Error("more pages than registers");
}

const load = () =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(" / ");
const loadBefore = load();
const rows: string[][] = [];
for (const s of SCENARIOS) {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-large-"));
  try {
    log(`${s.title}: filling`);
    const first = await startServer(dir);
    const fillStart = performance.now();
    await fill(first.url, s);
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const writerPeak = await peakRss(first.pid);
    await first.stop();
    const bytes = await dirBytes(dir);
    log(`${s.title}: ${(bytes / 2 ** 20).toFixed(0)} MiB on disk; restarting`);
    const restartStart = performance.now();
    const second = await startServer(dir);
    const restartSeconds = (performance.now() - restartStart) / 1000;
    const restartPeak = await peakRss(second.pid);
    const read = await readBack(second.url, s);
    await second.stop();
    if (read !== s.count) throw new Error(`read ${read} of ${s.count} registers back`);
    rows.push([
      s.title,
      `${(bytes / 2 ** 20).toFixed(0)} MiB`,
      `${fillSeconds.toFixed(1)} s`,
      `${(writerPeak / 2 ** 20).toFixed(0)} MiB`,
      `${restartSeconds.toFixed(2)} s`,
      `${(restartPeak / 2 ** 20).toFixed(0)} MiB`,
      `${read.toLocaleString("en")} ✓`,
    ]);
    log(`${s.title}: restart ${restartSeconds.toFixed(2)} s, peak RSS ${(restartPeak / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const doc = [
  "## Large states: restart time and memory",
  "",
  `Measured by \`test/bench/large-state.bench.ts\`${quick ? " with `--quick` (1/20 of the sizes: not figures to quote)" : ""} on ${new Date().toISOString()}.`,
  "Each state is written over HTTP (strict durability, compaction at the default 64 MiB), the server is",
  "stopped with SIGTERM, started again on the same data dir, and every register is read back through",
  "`GET /registers` and compared. *Restart* is from spawning the process to its listening line (Node",
  "start-up and module loading included); *peak RSS* is the kernel's high-water mark (`VmHWM`) of that process.",
  "Goal: 1M registers of 100 B values restart in ≤ 5 s within ≤ 1 GB RSS.",
  `Load average (1/5/15 min) before → after: ${loadBefore} → ${load()} on ${availableParallelism()} cores: on a shared machine`,
  "the times stretch with the load; the memory figures do not.",
  "",
  table(["state", "on disk", "fill", "peak RSS while filling", "restart", "peak RSS after restart", "read back"], rows),
  "",
].join("\n");
await writeFile(join(BENCH_DIR, "LARGE-STATE.md"), doc);
log(doc);
