// The `serve` launcher: restarts node with a young generation sized for fan-out unless told otherwise.

import { spawn } from "node:child_process";

/** Young-generation semi-space, MiB: waking 10,000 polls allocates tens of MiB of short-lived answers and sockets' buffers. */
export const DEFAULT_SEMI_SPACE_MB = 64;

const MARK = "SWITCHBOARD_LAUNCHED";

/**
 * The node flags `serve` should run with, or undefined when the current process will do:
 * SWITCHBOARD_SEMI_SPACE_MB=off (or 0) keeps node's default, a --max-semi-space-size already given
 * (node flags or NODE_OPTIONS) wins, and a launched child never relaunches.
 */
export function launchFlags(env: NodeJS.ProcessEnv, execArgv: readonly string[]): string[] | undefined {
  if (env[MARK] === "1") return undefined;
  const raw = env.SWITCHBOARD_SEMI_SPACE_MB;
  if (raw === "off" || raw === "0") return undefined;
  if ([...execArgv, env.NODE_OPTIONS ?? ""].some((a) => a.includes("--max-semi-space-size"))) return undefined;
  const mb = raw === undefined || raw === "" ? DEFAULT_SEMI_SPACE_MB : Number(raw);
  if (!Number.isInteger(mb) || mb < 1 || mb > 1024) return undefined;
  return [`--max-semi-space-size=${mb}`];
}

/**
 * Runs this script again under `flags`, forwarding signals and the exit code. The child ends itself
 * if this process dies (its IPC channel closes), so no server outlives a killed launcher.
 */
export function relaunch(flags: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: { ...process.env, [MARK]: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

/** In a launched child: a graceful stop when the launcher is gone. */
export function followLauncher(): void {
  if (process.env[MARK] !== "1" || !process.send) return;
  process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
  // The IPC channel must not keep the server alive by itself.
  process.channel?.unref();
}
