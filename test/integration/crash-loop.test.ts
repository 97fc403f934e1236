// Ten SIGKILLs at random moments under four concurrent writers, strict and relaxed durability: after every restart
// each register holds its last acknowledged value (or the one write in flight at the kill), never an older one.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleChildServer } from "../helpers/bundled-child.js";
import { makeTempDir } from "../helpers/temp-dir.js";

const KILLS = 10;
const WRITERS = 4;
let script: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  script = await bundleChildServer();
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await rm(script, { force: true });
});

async function start(dataDir: string, durability: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [script, dataDir, durability], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const line = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    createInterface({ input: child.stdout! }).once("line", resolve);
  });
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

describe.concurrent.each(["strict", "relaxed"])("%s durability", (durability) => {
  it(`keeps every acknowledged write through ${KILLS} SIGKILLs under ${WRITERS} writers`, async () => {
    const dir = await makeTempDir(`switchboard-crash-loop-${durability}-`);
    const acked = new Map<string, number>();
    /** Writes sent since the last acknowledgement of each register: any of them may have become durable. */
    const unacked = new Map<string, number[]>();
    let next = 0;
    try {
      for (let round = 0; round < KILLS; round++) {
        const { child, url } = await start(dir.path, durability);
        // After the restart: nothing acknowledged before is missing or older.
        if (acked.size > 0) {
          const query = [...acked.keys()].map((n) => `name=${n}`).join("&");
          const state = (await (await fetch(`${url}/consumer?${query}`)).json()) as {
            registers: Array<{ name: string; value: number }>;
          };
          for (const r of state.registers) {
            expect([acked.get(r.name), ...(unacked.get(r.name) ?? [])]).toContain(r.value);
            // What survived is now the baseline: an older value must never come back.
            acked.set(r.name, r.value);
            unacked.set(r.name, []);
          }
        }
        let killed = false;
        const writer = async (w: number) => {
          const name = `loop/${w}`;
          while (!killed) {
            const value = next++;
            unacked.set(name, [...(unacked.get(name) ?? []), value]);
            try {
              const r = await fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify({ name, value }) });
              if (r.status === 200) {
                acked.set(name, value);
                unacked.set(name, []);
              }
              await r.arrayBuffer();
            } catch {
              return; // killed mid-request: never acknowledged
            }
          }
        };
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
        await new Promise((r) => setTimeout(r, 30 + Math.random() * 120));
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        killed = true;
        await Promise.all(writers);
        await exited;
      }
      expect(acked.size).toBe(WRITERS);
    } finally {
      await dir.cleanup();
    }
  }, 120_000);
});
