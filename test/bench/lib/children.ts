// Child processes of the benchmarks: servers (Switchboard, the bare hono baseline) and load workers.

import { type ChildProcess, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const BENCH_DIR = join(REPO_ROOT, "test/bench");

/** Set BENCH_CPU_PROF=<dir> to write a .cpuprofile of every server child into <dir>. */
function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(dir)}`] : [];
}

export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  readonly label: string;
  /** Resident set size of the child, bytes (VmRSS from /proc). */
  rss(): Promise<number>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node --import tsx <script> ...args` and waits for the `{"url": …}` line it prints when listening. */
export async function startNodeServer(
  label: string,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<ServerChild> {
  const child = spawn(process.execPath, [...profileArgs(), "--import", "tsx", script, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // Every load generator polls from 127.0.0.1: the per-client caps would otherwise stop at 1,000 polls
    // and 2,000 connections.
    env: {
      ...process.env,
      SWITCHBOARD_MAX_POLLS_PER_CLIENT: "1000000",
      SWITCHBOARD_MAX_CONNECTIONS_PER_IP: "1000000",
      ...env,
    },
  });
  return attach(label, child, async () => {
    const lines = createInterface({ input: child.stdout! });
    for await (const line of lines) {
      const parsed = JSON.parse(line) as { url?: unknown };
      if (typeof parsed.url === "string") {
        lines.close();
        return parsed.url;
      }
    }
    throw new Error(`${label} exited before printing its url`);
  });
}

/** A Switchboard (test/helpers/child-server.ts) on 127.0.0.1 with the given data dir (or ":memory:") and durability. */
export function startSwitchboard(dataDir: string, durability: "strict" | "relaxed" = "strict"): Promise<ServerChild> {
  const label = dataDir === ":memory:" ? "switchboard :memory:" : `switchboard file ${durability}`;
  return startNodeServer(label, join(REPO_ROOT, "test/helpers/child-server.ts"), [dataDir, durability]);
}

/** The baseline: a bare hono app on @hono/node-server (test/bench/servers/bare-hono.ts). */
export function startBareHono(): Promise<ServerChild> {
  return startNodeServer("bare hono", join(BENCH_DIR, "servers/bare-hono.ts"), []);
}

/** The fan-out floor: bare node:http answering held requests with one shared Buffer (test/bench/servers/bare-node.ts). */
export function startBareNode(): Promise<ServerChild> {
  return startNodeServer("bare node:http", join(BENCH_DIR, "servers/bare-node.ts"), []);
}

/** Wraps any child that serves HTTP: `ready` resolves with its base URL. */
export async function attach(
  label: string,
  child: ChildProcess,
  ready: () => Promise<string>,
  readyWithinMs = 30_000,
): Promise<ServerChild> {
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = once(child, "exit");
  const timeout = AbortSignal.timeout(readyWithinMs);
  let url: string;
  try {
    url = await Promise.race([
      ready(),
      exited.then(([code]) => {
        throw new Error(`${label} exited with ${String(code)} before it was ready:\n${stderr}`);
      }),
      once(timeout, "abort").then(() => {
        throw new Error(`${label} was not ready within ${readyWithinMs / 1000} s:\n${stderr}`);
      }),
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    label,
    rss: () => rssOf(pid),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** A load worker (test/bench/workers/*.ts) in its own process, talking over IPC. */
export class Worker<In, Out> {
  readonly #child: ChildProcess;
  readonly #inbox: Out[] = [];
  readonly #waiting: ((m: Out) => void)[] = [];
  readonly #exited: Promise<unknown>;

  constructor(script: string) {
    this.#child = fork(join(BENCH_DIR, script), [], {
      cwd: REPO_ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#exited = once(this.#child, "exit");
    this.#child.on("message", (m) => {
      const next = this.#waiting.shift();
      if (next) next(m as Out);
      else this.#inbox.push(m as Out);
    });
  }

  send(message: In): void {
    this.#child.send(message as object);
  }

  /** The next message from the worker; rejects if none comes within `timeoutMs` or the worker dies. */
  next(timeoutMs = 120_000): Promise<Out> {
    const queued = this.#inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise<Out>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiting.indexOf(deliver);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(new Error(`worker gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const deliver = (m: Out) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.#waiting.push(deliver);
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error("worker exited"));
      });
    });
  }

  /** Asks the worker to exit (it closes its sockets first); kills it if it lingers. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** Monotonic time in ms, comparable across processes of this machine (CLOCK_MONOTONIC). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function waitUntil(
  what: string | (() => string),
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 50,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(everyMs);
  }
}
