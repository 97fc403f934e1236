// File store hardening: the snapshot as a checksummed stream, damaged tails kept and logged, health that heals itself.

import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Register, Snapshot } from "../../../src/core/types.js";
import { createFilePersistence, type FilePersistenceOptions } from "../../../src/storage/file/index.js";
import { encodeCommit } from "../../../src/storage/file/log-format.js";
import { segmentFileName } from "../../../src/storage/file/segments.js";
import { Script, workload } from "../../contract/persistence.js";
import { fakeClock, fsError, instrument } from "../../helpers/instrumented-fs.js";
import { reg } from "../../helpers/registers.js";
import { makeTempDir, type TempDir } from "../../helpers/temp-dir.js";

function recordingLogger() {
  const lines: Array<{ level: "info" | "warn"; obj: Record<string, unknown>; msg: string }> = [];
  return {
    lines,
    warns: () => lines.filter((l) => l.level === "warn"),
    logger: {
      info: (obj: object, msg: string) => lines.push({ level: "info", obj: obj as Record<string, unknown>, msg }),
      warn: (obj: object, msg: string) => lines.push({ level: "warn", obj: obj as Record<string, unknown>, msg }),
    },
  };
}

function bigSnapshot(count: number, valueBytes: number): Snapshot {
  const registers: Register[] = [];
  for (let i = 0; i < count; i++) registers.push(reg(`big/${i}`, `${i}:`.padEnd(valueBytes, "x"), i + 1));
  const requests = [{ id: 1, name: "big/0", value: "on", requestedAt: 5 }];
  return { revision: count, lastRequestId: 1, registers, requests };
}

describe("file store hardening", () => {
  let tmp: TempDir;
  let stores: Array<{ close(): Promise<void> }>;

  beforeEach(async () => {
    tmp = await makeTempDir("switchboard-file-stream-");
    stores = [];
  });
  afterEach(async () => {
    for (const store of stores) await store.close().catch(() => undefined);
    await tmp.cleanup();
  });

  function create(options: Partial<FilePersistenceOptions> = {}) {
    const store = createFilePersistence({ dir: tmp.path, ...options });
    stores.push(store);
    return store;
  }
  const log = (seq = 1) => join(tmp.path, segmentFileName(seq));
  const snapshotPath = () => join(tmp.path, "snapshot.jsonl");

  describe("snapshot as a stream", () => {
    it("round-trips a large state without reading any state file whole, in lines of bounded size", async () => {
      // 1,500 × 48 KiB ≈ 72 MiB: big enough that whole-file reads would show, small enough for CI.
      const snapshot = bigSnapshot(1500, 48 * 1024);
      const first = create();
      await first.load();
      await first.compact(snapshot);
      await first.commit(workload(new Script(), 2, "after"));
      await first.close();
      expect((await stat(snapshotPath())).size).toBeGreaterThan(70 * 1024 * 1024);

      const fs = instrument();
      const second = create({ fs: fs.fs });
      const loaded = await second.load();
      // Only the lock and the epoch (a few bytes each) may be read with readFile: the snapshot and segments are streamed.
      const small = (path: string) => path.endsWith(".lock") || path.endsWith("/epoch");
      expect(fs.calls.filter((c) => c.op === "readFile" && !small(c.path))).toEqual([]);
      expect(fs.calls.some((c) => c.op === "readStream" && c.path === snapshotPath())).toBe(true);
      expect(loaded.snapshot?.registers).toHaveLength(1500);
      expect(loaded.snapshot?.registers[1499]).toStrictEqual(snapshot.registers[1499]);
      expect(loaded.snapshot?.requests).toStrictEqual(snapshot.requests);
      expect(loaded.tail).toHaveLength(2);
      // Every line stays near the chunk size (1 MiB + one record), whatever the state's size.
      let longest = 0;
      for (const line of (await readFile(snapshotPath())).toString("latin1").split("\n")) {
        longest = Math.max(longest, line.length);
      }
      expect(longest).toBeLessThan(1024 * 1024 + 50 * 1024);
    });

    it("a flipped byte in any chunk is STORAGE_CORRUPT naming the line", async () => {
      const store = create();
      await store.load();
      await store.compact(bigSnapshot(3000, 10));
      await store.close();
      const data = await readFile(snapshotPath());
      const second = data.indexOf(0x0a) + 1;
      const third = data.indexOf(0x0a, second) + 1;
      data[third + 40] = data[third + 40] === 0x78 ? 0x79 : 0x78;
      await writeFile(snapshotPath(), data);
      await expect(create().load()).rejects.toMatchObject({
        code: "STORAGE_CORRUPT",
        details: { file: snapshotPath(), line: 3 },
      });
    });

    it("a snapshot cut short (no end line) is STORAGE_CORRUPT", async () => {
      const store = create();
      await store.load();
      await store.compact(bigSnapshot(3000, 10));
      await store.close();
      const data = await readFile(snapshotPath());
      await writeFile(snapshotPath(), data.subarray(0, data.lastIndexOf(0x0a, data.length - 2) + 1));
      await expect(create().load()).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    });

    it("reads a legacy snapshot.json and replaces it at the next compaction", async () => {
      const legacy = {
        format: 1,
        segment: 1,
        revision: 1,
        lastRequestId: 0,
        registers: [reg("old", 1, 1)],
        requests: [],
      };
      await writeFile(join(tmp.path, "snapshot.json"), JSON.stringify(legacy));
      const store = create();
      const loaded = await store.load();
      expect(loaded.snapshot?.registers).toStrictEqual([reg("old", 1, 1)]);
      await store.compact(loaded.snapshot!);
      expect((await readdir(tmp.path)).sort()).toEqual([
        "epoch",
        segmentFileName(2),
        "snapshot.jsonl",
        "switchboard.lock",
      ]);
      await store.close();
      expect((await create().load()).snapshot?.registers).toStrictEqual([reg("old", 1, 1)]);
    });
  });

  describe("damaged tails are logged and kept", () => {
    async function threeCommits() {
      const s = new Script();
      const store = create();
      await store.load();
      const batches = [workload(s, 2), workload(s, 2), workload(s, 2)];
      for (const b of batches) await store.commit(b);
      await store.close();
      return batches;
    }

    it("a complete last line with one flipped byte: warn with range and revisions, bytes copied aside", async () => {
      const [a, b, c] = await threeCommits();
      const data = await readFile(log());
      const lastStart = data.length - encodeCommit(c!).length;
      data[lastStart + 30] = data[lastStart + 30] === 0x31 ? 0x32 : 0x31;
      await writeFile(log(), data);
      const rec = recordingLogger();
      const loaded = await create({ logger: rec.logger }).load();
      expect(loaded.tail).toStrictEqual([...a!, ...b!]);
      expect(rec.warns()).toHaveLength(1);
      const warn = rec.warns()[0]!.obj;
      expect(warn).toMatchObject({ file: segmentFileName(1), from: lastStart, to: data.length });
      expect(warn.revisions).toStrictEqual({ first: 5, last: 6 });
      const copies = (await readdir(tmp.path)).filter((f) => /^damaged-.*\.bin$/.test(f));
      expect(copies).toEqual([warn.copy]);
      expect(await readFile(join(tmp.path, copies[0]!))).toStrictEqual(data.subarray(lastStart));
      expect((await stat(log())).size).toBe(lastStart);
    });

    it("a damaged newline between the last two lines: both commits are cut, logged and kept", async () => {
      const [a, b, c] = await threeCommits();
      const data = await readFile(log());
      const cut = data.length - encodeCommit(c!).length - encodeCommit(b!).length;
      data[data.length - encodeCommit(c!).length - 1] = 0x20;
      await writeFile(log(), data);
      const rec = recordingLogger();
      const loaded = await create({ logger: rec.logger }).load();
      expect(loaded.tail).toStrictEqual(a);
      expect(rec.warns()[0]?.obj).toMatchObject({ from: cut, to: data.length, revisions: { first: 3, last: 6 } });
      const copy = String(rec.warns()[0]?.obj.copy);
      expect((await readFile(join(tmp.path, copy))).length).toBe(data.length - cut);
    });

    it("a clean log logs nothing and keeps no copy", async () => {
      await threeCommits();
      const rec = recordingLogger();
      await create({ logger: rec.logger }).load();
      expect(rec.lines).toEqual([]);
      expect((await readdir(tmp.path)).some((f) => f.startsWith("damaged-"))).toBe(false);
    });
  });

  describe("health that recovers by itself", () => {
    it("after ENOSPC on append, a probe with backoff turns the store healthy with no write; logged once per change", async () => {
      const time = fakeClock();
      let full = true;
      const fs = instrument((call) => {
        if (full && call.op === "write") throw fsError("ENOSPC", "no space left on device");
      });
      const rec = recordingLogger();
      const errors: string[] = [];
      const store = create({
        fs: fs.fs,
        clock: time.clock,
        logger: rec.logger,
        onError: (op, code) => errors.push(`${op}:${code}`),
        probeMinDelayMs: 100,
        probeMaxDelayMs: 400,
      });
      full = false;
      await store.load();
      const s = new Script();
      const a = workload(s, 2);
      await store.commit(a);
      full = true;
      await expect(store.commit(workload(s, 2))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      await expect(store.commit(workload(s, 2))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect(store.isHealthy?.()).toBe(false);
      // Three failing probes, backing off 100 → 200 → 400 → 400 ms.
      for (const delay of [100, 200, 400]) {
        expect(time.pending().map((t) => t.ms)).toEqual([delay]);
        await time.fire();
        expect(store.isHealthy?.()).toBe(false);
      }
      expect(time.pending().map((t) => t.ms)).toEqual([400]);
      full = false;
      await time.fire();
      expect(store.isHealthy?.()).toBe(true);
      expect(time.pending()).toEqual([]);
      // One warn when it broke, one info when it healed: not one per failed commit or probe.
      expect(rec.lines.map((l) => l.level)).toEqual(["warn", "info"]);
      expect(rec.lines[0]?.obj).toMatchObject({ op: "append", code: "ENOSPC" });
      expect(errors.filter((e) => e === "append:ENOSPC").length).toBeGreaterThanOrEqual(1);
      expect(errors.filter((e) => e.startsWith("probe:ENOSPC"))).toHaveLength(3);
      // The failed commits never reappear; the next one lands after the acknowledged one.
      const b = workload(s, 2);
      await store.commit(b);
      await store.close();
      expect((await create().load()).tail).toStrictEqual([...a, ...b]);
    });

    it("a failed snapshot holds compaction back with a backoff instead of retrying after every commit", async () => {
      const time = fakeClock();
      let failSnapshot = true;
      const fs = instrument((call) => {
        if (failSnapshot && call.op === "write" && call.path.endsWith("snapshot.jsonl.tmp"))
          throw fsError("ENOSPC", "disk full");
      });
      const rec = recordingLogger();
      const store = create({ fs: fs.fs, clock: time.clock, logger: rec.logger, compactAfterBytes: 10 });
      await store.load();
      const s = new Script();
      await store.commit(workload(s, 2));
      expect(store.wantsCompaction?.()).toBe(true);
      await expect(store.compact(bigSnapshot(2, 5))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect(store.wantsCompaction?.()).toBe(false);
      await store.commit(workload(s, 2));
      expect(store.wantsCompaction?.()).toBe(false);
      expect(store.isHealthy?.()).toBe(true);
      await time.fire();
      expect(store.wantsCompaction?.()).toBe(true);
      // Still failing: held again for twice as long, and not logged again.
      await expect(store.compact(bigSnapshot(2, 5))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect(time.pending().map((t) => t.ms)).toEqual([2000]);
      await time.fire();
      failSnapshot = false;
      await store.compact(bigSnapshot(2, 5));
      expect(rec.lines.map((l) => l.level)).toEqual(["warn", "info"]);
    });
  });
});
