// Child processes of the benchmarks: servers (Switchboard, the bare hono baseline) and load workers.

import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { envName } from "../../../src/config.js";
import { TEST_PROTOCOL_DEFAULTS } from "../../helpers/server.js";

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

/** A Switchboard (the built binary, see startSwitchboardBinary) with the given data dir (or ":memory:") and durability. */
export function startSwitchboard(dataDir: string, durability: "strict" | "relaxed" = "strict"): Promise<ServerChild> {
  const label = dataDir === ":memory:" ? "switchboard :memory:" : `switchboard file ${durability}`;
  return startSwitchboardBinary(label, { dataDir, durability });
}

/** Node flags the `switchboard` binary's first line gives the server (src/cli.ts): the bench runs it the same way. */
export const SWITCHBOARD_NODE_FLAGS = readFileSync(join(REPO_ROOT, "src/cli.ts"), "utf8")
  .split("\n")[0]!
  .split(" ")
  .filter((a) => a.startsWith("--"));

let built = process.env.SWITCHBOARD_TEST_BUILT === "1";

/** Builds dist/ (`npm run build`) once per bench process, unless SWITCHBOARD_TEST_BUILT=1 says it is built. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
  built = true;
}

export interface BinaryOptions {
  readonly dataDir: string;
  readonly durability?: "strict" | "relaxed";
  /** SWITCHBOARD_* settings (and NODE_OPTIONS) on top of the bench defaults. */
  readonly env?: Readonly<Record<string, string>>;
  /** Turns the node command line into the one to spawn (e.g. a shell that raises `ulimit -n` first). */
  readonly wrap?: (argv: readonly string[]) => readonly string[];
  /** How long it may take to load its data and listen (default 30 s). */
  readonly readyWithinMs?: number;
}

/**
 * `switchboard serve` as an operator runs it: dist/cli.js (built by run.ts before any section) under the node
 * flags of the binary's first line, on 127.0.0.1 with an ephemeral port, every other protocol's port
 * ephemeral too, health probes off. Ready once the server logs "switchboard listening".
 */
export async function startSwitchboardBinary(label: string, o: BinaryOptions): Promise<ServerChild> {
  ensureBuilt();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SWITCHBOARD_")) env[k] = v;
  for (const [key, value] of Object.entries(TEST_PROTOCOL_DEFAULTS)) env[envName(key)] = String(value);
  const argv = [
    process.execPath,
    ...SWITCHBOARD_NODE_FLAGS,
    ...profileArgs(),
    join(REPO_ROOT, "dist/cli.js"),
    "serve",
    ...["--host", "127.0.0.1", "--port", "0", "--data-dir", o.dataDir, "--durability", o.durability ?? "strict"],
    ...["--log-level", "info"],
  ];
  const [command, ...args] = o.wrap ? o.wrap(argv) : argv;
  const child = spawn(command!, args, {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...env,
      SWITCHBOARD_LOG_PRETTY: "false",
      // Every load generator polls from 127.0.0.1: the per-client caps would otherwise stop at 1,000 polls
      // and 2,000 connections.
      SWITCHBOARD_MAX_POLLS_PER_CLIENT: "1000000",
      SWITCHBOARD_MAX_CONNECTIONS_PER_IP: "1000000",
      ...o.env,
    },
  });
  return attach(
    label,
    child,
    async () => {
      const lines = createInterface({ input: child.stdout! });
      const url = await new Promise<string>((resolve, reject) => {
        // The log keeps being read (and dropped) after this line, so a chatty server never blocks on a full pipe.
        lines.on("line", (line) => {
          try {
            const entry = JSON.parse(line) as { msg?: string; url?: string };
            if (entry.msg === "switchboard listening" && typeof entry.url === "string") resolve(entry.url);
          } catch {
            // not a log line
          }
        });
        lines.once("close", () => reject(new Error(`${label} exited before it was listening`)));
      });
      return url;
    },
    o.readyWithinMs,
  );
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
