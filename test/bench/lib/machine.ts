// Facts about the machine that the figures depend on: here, how long one small append + fsync takes in the temp dir.

import { open } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../../helpers/temp-dir.js";
import { nowMs } from "./children.js";
import { percentile } from "./stats.js";

/** p50 and p99 (ms) of `count` appends of 200 bytes, each followed by fsync, in a fresh file under the OS temp dir. */
export async function fsyncLatency(count = 200): Promise<{ p50: number; p99: number }> {
  const dir = await makeTempDir("switchboard-bench-fsync-");
  const times: number[] = [];
  try {
    const h = await open(join(dir.path, "probe.log"), "a");
    try {
      const line = Buffer.alloc(200, 0x61);
      for (let i = 0; i < count; i++) {
        const t0 = nowMs();
        await h.write(line);
        await h.sync();
        times.push(nowMs() - t0);
      }
    } finally {
      await h.close();
    }
  } finally {
    await dir.cleanup();
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}
