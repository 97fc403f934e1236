// Idle long-polls at scale: one Switchboard child holds up to 50,000 `GET /consumer` long-polls that nothing
// wakes, held by load workers (child processes, each from its own loopback source address so that no address
// runs out of ephemeral ports); the server's RSS as they are added, RSS per poll, and its CPU while they idle.
//
// Every held poll is a socket of the server: the child is started under `ulimit -n` raised as far as this
// machine allows. Where the limit stays below what the target needs, the run holds as many as the server
// admits (its connection cap is derived from the limit) and says where it stopped.

import { readFile, rm } from "node:fs/promises";
import { defaultMaxConnections } from "../../src/protocols/http/fd-limit.js";
import { metricValue } from "../helpers/server.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { type ServerChild, SWITCHBOARD_NODE_FLAGS, sleep, startSwitchboardBinary, waitUntil } from "./lib/children.js";
import { heldPolls, requestJson } from "./lib/http.js";
import type { Section, TargetResult } from "./lib/report.js";
import { int, kib, mib, ms, table } from "./lib/stats.js";
import { cpuMsOf, expect, shares, startWorkers, WAKE_REGISTER } from "./lib/wake-drivers.js";

export interface IdleSettings {
  /** idle long-polls to hold */
  readonly polls: number;
  /** at most this many per load worker (one loopback source address each) */
  readonly pollsPerWorker: number;
  /** length of the idle-CPU window, seconds */
  readonly idleSeconds: number;
}

export const DEFAULT_IDLE_SETTINGS: IdleSettings = { polls: 50_000, pollsPerWorker: 5000, idleSeconds: 5 };
export const QUICK_IDLE_SETTINGS: IdleSettings = { polls: 5000, pollsPerWorker: 2500, idleSeconds: 5 };

const TARGET_POLLS = 50_000;
const TARGET_RSS = 2e9;

/** Open-file limit wanted for `polls` held polls: the server keeps 64 + 2 % of its limit in reserve. */
const fdLimitFor = (polls: number) => Math.ceil((polls + 256) / 0.98) + 64;

/** The soft open-file limit of a running process. */
async function openFilesOf(pid: number): Promise<number> {
  const limits = await readFile(`/proc/${pid}/limits`, "utf8");
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  return !m?.[1] || m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** Switchboard under `sh -c 'ulimit -n …; exec node …'` (raised only, never lowered), with the waiter cap raised. */
function startServer(dataDir: string, polls: number): Promise<ServerChild> {
  const wanted = fdLimitFor(polls);
  return startSwitchboardBinary("switchboard file strict", {
    dataDir,
    env: { SWITCHBOARD_MAX_WAITERS: String(polls + 1000) },
    wrap: (argv) => [
      "sh",
      "-c",
      '[ "$(ulimit -n)" -ge "$0" ] || ulimit -n "$0" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"',
      String(wanted),
      ...argv,
    ],
  });
}

interface Step {
  readonly held: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly armSeconds: number;
}

export async function runIdleBench(settings: IdleSettings, log: (s: string) => void): Promise<Section> {
  const dir = await makeTempDir("switchboard-bench-idle-");
  let server: ServerChild | undefined;
  const workers: ReturnType<typeof startWorkers> = [];
  const steps: Step[] = [];
  let failure: string | undefined;
  let fdLimit = Number.NaN;
  let reachable = 0;
  let rssIdle = Number.NaN;
  let cpuIdleEmpty = Number.NaN;
  let cpuIdleHeld = Number.NaN;
  let heldAtEnd = Number.NaN;
  try {
    const started = await startServer(dir.path, settings.polls);
    server = started;
    fdLimit = await openFilesOf(server.pid);
    // The server admits defaultMaxConnections(limit) connections; the orchestrator's own (a few) count too.
    reachable = Math.min(settings.polls, defaultMaxConnections(fdLimit) - 16);
    log(
      `  server ulimit -n ${int(fdLimit)} (wanted ${int(fdLimitFor(settings.polls))}): holding ${int(reachable)} polls`,
    );
    const put = await requestJson("PUT", `${server.url}/provider`, { name: WAKE_REGISTER, value: { round: 0 } });
    if (put.status !== 200) throw new Error(`PUT /provider answered ${put.status}`);
    const index = (put.body as { index: number }).index;
    await sleep(1000);
    rssIdle = await server.rss();
    const window = settings.idleSeconds * 1000;
    let c0 = await cpuMsOf(server.pid);
    await sleep(window);
    cpuIdleEmpty = (await cpuMsOf(server.pid)) - c0;

    const counts = shares(reachable, Math.max(1, Math.ceil(reachable / settings.pollsPerWorker)));
    // The polls must outlive the run: the longest wait the server allows (5 min by default).
    const path = `/consumer?name=${encodeURIComponent(WAKE_REGISTER)}&index=${index}&wait=290s`;
    let held = 0;
    for (const [i, count] of counts.entries()) {
      const [w] = startWorkers(1);
      workers.push(w!);
      const t = Date.now();
      w!.send({ type: "longpoll-arm", url: server.url, path, count, round: 1, localAddress: `127.0.0.${2 + i}` });
      expect(await w!.next(), "armed");
      const want = held + count;
      let seen = 0;
      await waitUntil(
        () => `${int(want)} held polls (${int(seen)} held)`,
        async () => {
          seen = await heldPolls(started.url, "switchboard");
          return seen >= want;
        },
        180_000,
        250,
      );
      held = want;
      const armSeconds = (Date.now() - t) / 1000;
      await sleep(500);
      const step: Step = {
        held,
        rss: await server.rss(),
        heapUsed: await metricValue(server.url, "switchboard_process_heap_used_bytes"),
        armSeconds,
      };
      steps.push(step);
      log(
        `  ${int(held)} held: RSS ${mib(step.rss)}, V8 heap ${mib(step.heapUsed)} (${armSeconds.toFixed(1)} s to arm)`,
      );
    }
    await sleep(1000);
    c0 = await cpuMsOf(server.pid);
    await sleep(window);
    cpuIdleHeld = (await cpuMsOf(server.pid)) - c0;
    heldAtEnd = await heldPolls(server.url, "switchboard");
    log(
      `  idle CPU over ${settings.idleSeconds} s: ${ms(cpuIdleEmpty)} without polls, ${ms(cpuIdleHeld)} with ${int(held)}`,
    );
  } catch (err) {
    failure = (err as Error).message;
    log(`  FAILED ${failure}`);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server?.stop();
    await rm(dir.path, { recursive: true, force: true });
  }
  return idleSection(settings, { steps, failure, fdLimit, reachable, rssIdle, cpuIdleEmpty, cpuIdleHeld, heldAtEnd });
}

function idleSection(
  settings: IdleSettings,
  m: {
    steps: readonly Step[];
    failure: string | undefined;
    fdLimit: number;
    reachable: number;
    rssIdle: number;
    cpuIdleEmpty: number;
    cpuIdleHeld: number;
    heldAtEnd: number;
  },
): Section {
  const top = m.steps[m.steps.length - 1];
  const perPoll = (s: Step) => (s.rss - m.rssIdle) / s.held;
  // RSS per poll since the previous step: the young generation (up to twice the semi-space) and the
  // allocator's arenas grow in the first steps whatever the poll count, which the average from zero includes.
  const marginal = (i: number) => {
    const s = m.steps[i]!;
    const prev = m.steps[i - 1];
    return prev ? (s.rss - prev.rss) / (s.held - prev.held) : Number.NaN;
  };
  const rows = m.steps.map((s, i) => [
    int(s.held),
    mib(s.rss),
    kib(perPoll(s)),
    i > 0 ? kib(marginal(i)) : "",
    mib(s.heapUsed),
    `${s.armSeconds.toFixed(1)} s`,
  ]);
  const perSecond = (cpu: number) =>
    `${ms(cpu / settings.idleSeconds)} per s (${((cpu / settings.idleSeconds / 1000) * 100).toFixed(1)} % of a core)`;
  const stoppedShort = top !== undefined && top.held < settings.polls;
  const why =
    m.reachable < settings.polls
      ? `the server's open-file limit is ${int(m.fdLimit)} (\`ulimit -n\` could not be raised to ${int(fdLimitFor(settings.polls))} here), so it admits at most ${int(defaultMaxConnections(m.fdLimit))} connections`
      : "";
  const targets: TargetResult[] = [];
  if (top && top.held >= TARGET_POLLS) {
    targets.push({
      what: "50,000 idle long-polls: server RSS",
      target: "< 2 GB",
      measured: `${mib(top.rss)} (${kib(perPoll(top))} per poll)`,
      pass: top.rss < TARGET_RSS && m.heldAtEnd >= top.held,
    });
  } else {
    // From the last step on at the rate of the second half of the steps (the average from zero where there
    // is one step).
    const from = m.steps.length >= 2 ? m.steps[Math.floor((m.steps.length - 1) / 2)] : undefined;
    const rate = top && from ? (top.rss - from.rss) / (top.held - from.held) : top ? perPoll(top) : Number.NaN;
    const extrapolated = top ? top.rss + rate * (TARGET_POLLS - top.held) : Number.NaN;
    targets.push({
      what: "50,000 idle long-polls: server RSS",
      target: "< 2 GB",
      measured: top
        ? `not measured at 50,000: held ${int(top.held)}${why ? ` (${why})` : settings.polls < TARGET_POLLS ? " (quick run)" : ""}: RSS ${mib(top.rss)}, ${kib(perPoll(top))} per poll${from ? ` (${kib(rate)} per poll added after ${int(from.held)})` : ""}; 50,000 extrapolated ≈ ${mib(extrapolated)}`
        : `not measured: ${m.failure ?? "no poll was held"}`,
      pass: null,
    });
  }
  const body = [
    `One Switchboard child (file store, strict durability, \`${SWITCHBOARD_NODE_FLAGS.join(" ")}\`) holds`,
    "`GET /consumer?name=bench/wake&index=I&wait=290s` long-polls that nothing wakes. Load workers (child",
    `processes, at most ${int(settings.pollsPerWorker)} polls each, each from its own loopback source address 127.0.0.2, .3, …)`,
    "add them one worker at a time; after each, once `/metrics` reports them held, the server's VmRSS and V8",
    "heap in use. RSS per poll = (RSS held − RSS before any poll) / polls; per added poll = the RSS growth since",
    "the previous step / the polls added (the first steps also grow the young generation, up to twice the",
    "semi-space, and the allocator's arenas, whatever the poll count). Idle CPU: the server child's CPU",
    `time (every thread, \`/proc/<pid>/task/*/schedstat\`) over ${settings.idleSeconds} s with no poll, then over ${settings.idleSeconds} s with all held.`,
    `The server runs under \`ulimit -n\` raised as far as allowed (wanted ${int(fdLimitFor(settings.polls))}; got ${int(m.fdLimit)}),`,
    "`SWITCHBOARD_MAX_WAITERS` above the poll count and the per-client caps lifted.",
    "",
    table(["polls held", "server RSS", "per poll", "per added poll", "V8 heap used", "time to arm the step"], rows),
    "",
    table(
      ["", ""],
      [
        [
          "polls asked for / held",
          `${int(settings.polls)} / ${int(top?.held ?? 0)}${stoppedShort && why ? ` (stopped: ${why})` : ""}`,
        ],
        ["server RSS before any poll", mib(m.rssIdle)],
        ["server CPU idle, no polls", Number.isFinite(m.cpuIdleEmpty) ? perSecond(m.cpuIdleEmpty) : "n/a"],
        [
          `server CPU idle, ${int(top?.held ?? 0)} polls held`,
          Number.isFinite(m.cpuIdleHeld) ? perSecond(m.cpuIdleHeld) : "n/a",
        ],
        ["polls still held at the end", int(m.heldAtEnd)],
      ],
    ),
    ...(m.failure ? ["", `**Failed:** ${m.failure}`] : []),
  ].join("\n");
  return { title: "Idle long-polls at scale", body, targets };
}
