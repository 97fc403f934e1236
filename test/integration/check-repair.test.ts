// `switchboard check` and `switchboard repair` as processes on a real data directory with real damage.

import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { checkDataDir } from "../../src/storage/file/check.js";
import { createFilePersistence } from "../../src/storage/file/index.js";
import { encodeCommit } from "../../src/storage/file/log-format.js";
import { segmentFileName } from "../../src/storage/file/segments.js";
import { Script, workload } from "../contract/persistence.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.cleanup();
});

function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, out, err })));
}

it("check verifies every checksum; repair cuts at the first bad record after --yes, keeping the cut part", async () => {
  dir = await makeTempDir("switchboard-repair-");
  const s = new Script();
  const batches = [workload(s, 3), workload(s, 3), workload(s, 3)];
  const store = createFilePersistence({ dir: dir.path });
  await store.load();
  for (const b of batches) await store.commit(b);
  await store.close();

  expect(await checkDataDir(dir.path)).toMatchObject({
    ok: true,
    segments: [{ file: segmentFileName(1), commits: 3 }],
  });

  // A flipped byte in the middle line: the server refuses to start (STORAGE_CORRUPT), check finds the spot.
  const log = join(dir.path, segmentFileName(1));
  const data = await readFile(log);
  const second = encodeCommit(batches[0]!).length;
  data[second + 20] = data[second + 20] === 0x31 ? 0x32 : 0x31;
  await writeFile(log, data);
  await expect(createFilePersistence({ dir: dir.path }).load()).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
  // Both read only: run side by side (each process compiles TypeScript on start).
  const [damaged, refused] = await Promise.all([
    cli("check", "--data-dir", dir.path),
    cli("repair", "--data-dir", dir.path),
  ]);
  expect(damaged.code).toBe(1);
  expect(damaged.out).toContain(`first bad record: ${segmentFileName(1)} at byte ${second}`);

  expect(refused.code).toBe(1);
  expect(refused.err).toContain("--yes");
  expect(await readFile(log)).toStrictEqual(data);

  const repaired = await cli("repair", "--data-dir", dir.path, "--yes");
  expect(repaired.code).toBe(0);
  const copies = (await readdir(dir.path)).filter((f) => f.startsWith("damaged-"));
  expect(copies).toHaveLength(1);
  expect(await readFile(join(dir.path, copies[0]!))).toStrictEqual(data.subarray(second));
  expect(repaired.out).toContain(copies[0]);

  expect((await checkDataDir(dir.path)).ok).toBe(true);
  const after = createFilePersistence({ dir: dir.path });
  expect((await after.load()).tail).toStrictEqual(batches[0]);
  await after.close();
}, 30_000);
