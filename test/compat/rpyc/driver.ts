// Runs driver.py (stock rpyc under Debian's /usr/bin/python3) and sends it one command at a time.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./driver.py", import.meta.url));
export const PYTHON = "/usr/bin/python3";

export interface RpycDriver {
  /** Sends one command; resolves with its answer, rejects if the Python side raised. */
  send<T = Record<string, unknown>>(cmd: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

export function startRpycDriver(): RpycDriver {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, ["-u", SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      for (const w of waiting.splice(0)) w.reject(new Error(`driver.py exited: ${stderr}`));
      resolve();
    }),
  );
  createInterface({ input: child.stdout }).on("line", (line) => {
    const w = waiting.shift();
    if (!w) return;
    const answer = JSON.parse(line) as Record<string, unknown>;
    if (typeof answer.exception === "string") w.reject(new Error(`driver.py: ${answer.exception}`));
    else w.resolve(answer);
  });
  return {
    send<T>(cmd: Record<string, unknown>) {
      return new Promise<T>((resolve, reject) => {
        waiting.push({ resolve: resolve as (v: unknown) => void, reject });
        child.stdin.write(`${JSON.stringify(cmd)}\n`);
      });
    },
    async close() {
      child.stdin.end();
      const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(killer);
    },
  };
}
