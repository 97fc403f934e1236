// File store specifics: line format, torn and corrupt logs, crash points of compaction, durability modes, lock.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { appendFile, readdir, readFile, rm, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { crc32 } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Mutation } from "../../../src/core/types.js";
import { EPOCH_FILE } from "../../../src/storage/file/epoch-file.js";
import { createFilePersistence, type FilePersistenceOptions, SNAPSHOT_FILE } from "../../../src/storage/file/index.js";
import { encodeCommit } from "../../../src/storage/file/log-format.js";
import { segmentFileName } from "../../../src/storage/file/segments.js";
import { replay, Script, snapshotOf, workload } from "../../contract/persistence.js";
import { fakeClock, fsError, instrument } from "../../helpers/instrumented-fs.js";
import { makeTempDir, type TempDir } from "../../helpers/temp-dir.js";

/** Above Linux's largest pid_max (2^22): no process can have it. */
const DEAD_PID = 2 ** 22 + 12_345;
const LOCK = "switchboard.lock";

describe("file store", () => {
  let tmp: TempDir;
  let stores: Array<{ close(): Promise<void> }>;

  beforeEach(async () => {
    tmp = await makeTempDir("switchboard-file-unit-");
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

  async function loadAfterRestart() {
    const store = create();
    return { store, loaded: await store.load() };
  }

  describe("log format", () => {
    it("reads back request deadlines and expiry acks that name their ids", async () => {
      const store = create();
      await store.load();
      const batch = [
        {
          type: "request" as const,
          name: "a",
          revision: 1,
          request: { id: 1, name: "a", value: 1, requestedAt: 5, expiresAt: 2005 },
        },
        { type: "ack" as const, name: "a", revision: 2, upTo: 1, ids: [1], reason: "request_expired" as const },
      ];
      await store.commit(batch);
      await store.close();
      const { loaded } = await loadAfterRestart();
      expect(loaded.tail).toStrictEqual(batch);
    });

    it("writes one checksummed JSON line per commit", async () => {
      const store = create();
      await store.load();
      const s = new Script();
      const a = workload(s, 3);
      const b = [s.set("x", "line\nbreak")];
      await store.commit(a);
      await store.commit(b);
      const lines = (await readFile(log(), "utf8")).split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe("");
      for (const [i, batch] of [a, b].entries()) {
        const line = lines[i] ?? "";
        expect(line).toMatch(/^[0-9a-f]{8} \[/);
        const payload = line.slice(9);
        expect(Number.parseInt(line.slice(0, 8), 16)).toBe(crc32(payload));
        expect(JSON.parse(payload)).toStrictEqual(batch);
      }
    });

    it("group commit: one write and one fsync per commit call, whatever its size", async () => {
      const fs = instrument();
      const store = create({ fs: fs.fs });
      await store.load();
      const before = { write: fs.logCalls("write"), sync: fs.logCalls("sync") };
      await store.commit(workload(new Script(), 1000));
      expect(fs.logCalls("write") - before.write).toBe(1);
      expect(fs.logCalls("sync") - before.sync).toBe(1);
    });

    it("creates a missing data directory on load()", async () => {
      const dir = join(tmp.path, "nested", "data");
      const store = create({ dir });
      await expect(store.load()).resolves.toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
      expect((await readdir(dir)).sort()).toEqual([segmentFileName(1), LOCK, EPOCH_FILE].sort());
    });

    it("load() again on the same instance re-reads the directory and keeps appending", async () => {
      const store = create({ durability: "relaxed" });
      await store.load();
      const s = new Script();
      const a = workload(s, 6);
      await store.commit(a);
      expect(await store.load()).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: a });
      const b = workload(s, 6);
      await store.commit(b);
      await store.close();
      expect((await loadAfterRestart()).loaded).toStrictEqual({
        epoch: expect.any(String),
        snapshot: null,
        tail: [...a, ...b],
      });
    });

    it("rejects commits before load()", async () => {
      await expect(create().commit(workload(new Script(), 1))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
    });
  });

  describe("torn last line", () => {
    // [what happened, whether it damaged the last commit (c) or added a broken line after it, the damage]
    const tears: Array<[string, boolean, (file: string) => Promise<void>]> = [
      ["the last line cut in the middle", true, async (file) => truncate(file, (await stat(file)).size - 20)],
      ["the last line cut just before its newline", true, async (file) => truncate(file, (await stat(file)).size - 1)],
      ["only a checksum written", false, (file) => appendFile(file, "0123abcd")],
      ["a complete line whose checksum does not match", false, (file) => appendFile(file, "00000000 []\n")],
      ["a zero-filled block", false, (file) => appendFile(file, Buffer.alloc(4096))],
    ];

    it.each(tears)("%s: is dropped, truncated away, and later commits load after it", async (_name, hitsC, tear) => {
      const s = new Script();
      const [a, b, c] = [workload(s, 5), workload(s, 5), workload(s, 5)];
      const first = create();
      await first.load();
      for (const batch of [a, b, c]) await first.commit(batch);
      await first.close();
      const whole = (await stat(log())).size;
      await tear(log());
      const expected = hitsC ? [...a, ...b] : [...a, ...b, ...c];

      const second = await loadAfterRestart();
      expect(second.loaded).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: expected });
      expect((await stat(log())).size).toBe(hitsC ? whole - encodeCommit(c).length : whole);
      const d = workload(s, 5);
      await second.store.commit(d);
      await second.store.close();

      const third = await loadAfterRestart();
      expect(third.loaded).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [...expected, ...d] });
    });
  });

  describe("corruption is STORAGE_CORRUPT, never skipped", () => {
    async function threeCommits(): Promise<Mutation[][]> {
      const s = new Script();
      const store = create();
      await store.load();
      const batches = [workload(s, 4), workload(s, 4), workload(s, 4)];
      for (const batch of batches) await store.commit(batch);
      await store.close();
      return batches;
    }

    async function expectCorrupt(): Promise<void> {
      const store = create();
      await expect(store.load()).rejects.toMatchObject({ name: "SwitchboardError", code: "STORAGE_CORRUPT" });
      // The failed load released the lock: a retry fails the same way, not with "in use".
      await expect(create().load()).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    }

    it("a changed byte in the first line", async () => {
      await threeCommits();
      const data = await readFile(log());
      data[20] = data[20] === 0x31 ? 0x32 : 0x31;
      await writeFile(log(), data);
      await expectCorrupt();
    });

    it("a lost newline that merges two lines", async () => {
      await threeCommits();
      const data = await readFile(log());
      await writeFile(
        log(),
        Buffer.concat([data.subarray(0, data.indexOf(0x0a)), data.subarray(data.indexOf(0x0a) + 1)]),
      );
      await expectCorrupt();
    });

    it("a last line with a valid checksum that is not a list of mutations", async () => {
      await threeCommits();
      const payload = JSON.stringify([{ type: "set", name: "x" }]);
      await appendFile(log(), `${crc32(payload).toString(16).padStart(8, "0")} ${payload}\n`);
      await expectCorrupt();
    });

    it("a torn line at the end of a segment that is not the newest", async () => {
      const [, , c] = await threeCommits();
      await writeFile(log(2), encodeCommit(c ?? []));
      await truncate(log(1), (await stat(log(1))).size - 3);
      await expectCorrupt();
    });

    it("a missing segment between the snapshot and the newest one", async () => {
      await threeCommits();
      await writeFile(join(tmp.path, "snapshot.json"), snapshotJson(1));
      await writeFile(log(3), "");
      await expectCorrupt();
    });

    it("a log that starts after segment 1 with no snapshot", async () => {
      await threeCommits();
      await writeFile(log(2), await readFile(log(1)));
      await unlink(log(1));
      await expectCorrupt();
    });

    it.each([
      ["not JSON", "{"],
      ["the wrong shape", JSON.stringify({ format: 1, segment: 1, revision: "7", lastRequestId: 0, registers: [] })],
      ["an unknown format", snapshotJson(1).replace('"format":1', '"format":2')],
    ])("a snapshot that is %s", async (_name, content) => {
      await writeFile(join(tmp.path, "snapshot.json"), content);
      await expectCorrupt();
    });
  });

  describe("compaction", () => {
    it("replaces the log by the snapshot and a new segment", async () => {
      const store = create();
      await store.load();
      const s = new Script();
      const a = workload(s, 10);
      await store.commit(a);
      await store.compact(snapshotOf(replay({ snapshot: null, tail: a })));
      expect((await readdir(tmp.path)).sort()).toEqual([segmentFileName(2), LOCK, EPOCH_FILE, "snapshot.jsonl"].sort());
      expect((await stat(log(2))).size).toBe(0);
      await store.compact(snapshotOf(replay({ snapshot: null, tail: a })));
      expect((await readdir(tmp.path)).sort()).toEqual([segmentFileName(3), LOCK, EPOCH_FILE, "snapshot.jsonl"].sort());
    });

    it("after a crash between the snapshot rename and the log rotation, loads the committed state", async () => {
      const s = new Script();
      const a = workload(s, 10);
      const first = create();
      await first.load();
      await first.commit(a);
      await first.close();
      const oldLog = await readFile(log(1));
      const second = create();
      await second.load();
      await second.compact(snapshotOf(replay({ snapshot: null, tail: a })));
      await second.close();
      // As if the process died right after the rename: old segment still there, new one not created yet,
      // and a half-written temp snapshot from an earlier attempt.
      await writeFile(log(1), oldLog);
      await unlink(log(2));
      await writeFile(join(tmp.path, "snapshot.jsonl.tmp"), '0000 {"format":2,"seg');

      const third = await loadAfterRestart();
      expect(replay(third.loaded)).toStrictEqual(replay({ snapshot: null, tail: a }));
      expect(third.loaded.tail).toEqual([]);
      expect((await readdir(tmp.path)).sort()).toEqual([segmentFileName(2), LOCK, EPOCH_FILE, "snapshot.jsonl"].sort());
      const b = workload(s, 5);
      await third.store.commit(b);
      await third.store.close();
      const fourth = await loadAfterRestart();
      expect(replay(fourth.loaded)).toStrictEqual(replay({ snapshot: null, tail: [...a, ...b] }));
    });

    it("after a crash before the rename (old snapshot, all segments), loads the committed state", async () => {
      const s = new Script();
      const a = workload(s, 6);
      const b = workload(s, 6);
      await writeFile(log(1), encodeCommit(a));
      await writeFile(log(2), encodeCommit(b));
      const { loaded } = await loadAfterRestart();
      expect(loaded).toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [...a, ...b] });
    });

    it("a crash at any file operation of a compaction loses nothing", async () => {
      // Count the operations of one compaction, then crash at each of them in turn.
      const probe = instrument();
      const store = create({ fs: probe.fs });
      await store.load();
      await store.commit(workload(new Script(), 3));
      const start = probe.calls.length;
      await store.compact({ revision: 0, lastRequestId: 0, registers: [], requests: [] });
      const steps = probe.calls.length - start;
      expect(steps).toBeGreaterThanOrEqual(8);

      for (let k = 0; k < steps; k++) {
        const dir = await makeTempDir("switchboard-file-crash-");
        try {
          let armed = false;
          let seen = 0;
          const fs = instrument((call) => {
            if (armed && seen++ >= k) throw new Error(`simulated crash before ${call.op} ${basename(call.path)}`);
          });
          const s = new Script();
          const a = workload(s, 20);
          const dying = createFilePersistence({ dir: dir.path, fs: fs.fs });
          await dying.load();
          await dying.commit(a);
          armed = true;
          await expect(dying.compact(snapshotOf(replay({ snapshot: null, tail: a })))).rejects.toThrow(
            /simulated crash/,
          );
          await fs.crash();
          await writeFile(join(dir.path, LOCK), `${DEAD_PID}\n`);

          const reborn = createFilePersistence({ dir: dir.path });
          expect(replay(await reborn.load()), `crash at step ${k}`).toStrictEqual(replay({ snapshot: null, tail: a }));
          const b = workload(s, 4);
          await reborn.commit(b);
          await reborn.close();
          const last = createFilePersistence({ dir: dir.path });
          expect(replay(await last.load()), `crash at step ${k}`).toStrictEqual(
            replay({ snapshot: null, tail: [...a, ...b] }),
          );
          await last.close();
        } finally {
          await dir.cleanup();
        }
      }
    });

    it("a failed rotation after the rename makes the store unhealthy until the next commit moves to the new segment", async () => {
      let failOpen = false;
      const fs = instrument((call) => {
        if (failOpen && call.op === "open" && call.path.endsWith(segmentFileName(2)))
          throw fsError("ENOSPC", "no space");
      });
      const store = create({ fs: fs.fs });
      await store.load();
      const s = new Script();
      const a = workload(s, 8);
      await store.commit(a);
      failOpen = true;
      const snapshot = snapshotOf(replay({ snapshot: null, tail: a }));
      await expect(store.compact(snapshot)).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect(store.isHealthy?.()).toBe(false);
      failOpen = false;
      const b = workload(s, 3);
      await store.commit(b);
      expect(store.isHealthy?.()).toBe(true);
      await store.close();
      const { loaded } = await loadAfterRestart();
      expect(loaded.snapshot).toStrictEqual(snapshot);
      expect(loaded.tail).toStrictEqual(b);
    });

    it("a failed snapshot write leaves the store writing to its current log", async () => {
      const fs = instrument((call) => {
        if (call.op === "rename" && call.path.includes(SNAPSHOT_FILE)) throw fsError("EACCES", "rename refused");
      });
      const store = create({ fs: fs.fs });
      await store.load();
      const s = new Script();
      const a = workload(s, 5);
      await store.commit(a);
      await expect(store.compact(snapshotOf(replay({ snapshot: null, tail: a })))).rejects.toThrow(/rename refused/);
      expect(store.isHealthy?.()).toBe(true);
      const b = workload(s, 5);
      await store.commit(b);
      await store.close();
      expect((await readdir(tmp.path)).sort()).toEqual([EPOCH_FILE, segmentFileName(1)]);
      expect((await loadAfterRestart()).loaded).toStrictEqual({
        epoch: expect.any(String),
        snapshot: null,
        tail: [...a, ...b],
      });
    });

    it("wantsCompaction() turns true once the current segment passes compactAfterBytes", async () => {
      const store = create({ compactAfterBytes: 2000 });
      expect(store.wantsCompaction?.()).toBe(false);
      await store.load();
      const s = new Script();
      await store.commit(workload(s, 2));
      expect(store.wantsCompaction?.()).toBe(false);
      const big = workload(s, 20);
      await store.commit(big);
      expect(store.wantsCompaction?.()).toBe(true);
      await store.close();
      const reopened = create({ compactAfterBytes: 2000 });
      const loaded = await reopened.load();
      expect(reopened.wantsCompaction?.()).toBe(true);
      await reopened.compact(snapshotOf(replay(loaded)));
      expect(reopened.wantsCompaction?.()).toBe(false);
    });
  });

  describe("write failures", () => {
    it("a partly written commit is rejected, marks the store unhealthy and never reappears", async () => {
      let fail = false;
      const fs = instrument(async (call) => {
        if (fail && call.op === "write" && call.path.endsWith(".jsonl")) {
          fail = false;
          await appendFile(call.path, '0badf00d [{"type":"set","na');
          throw fsError("ENOSPC", "disk full");
        }
      });
      const store = create({ fs: fs.fs });
      await store.load();
      const s = new Script();
      const a = workload(s, 4);
      await store.commit(a);
      fail = true;
      await expect(store.commit(workload(s, 4))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect(store.isHealthy?.()).toBe(false);
      const c = workload(s, 4);
      await store.commit(c);
      expect(store.isHealthy?.()).toBe(true);
      await store.close();
      expect((await loadAfterRestart()).loaded).toStrictEqual({
        epoch: expect.any(String),
        snapshot: null,
        tail: [...a, ...c],
      });
    });

    it("a commit whose fsync failed is rejected and truncated away, though fully written", async () => {
      let fail = false;
      const fs = instrument((call) => {
        if (fail && call.op === "sync" && call.path.endsWith(".jsonl")) {
          fail = false;
          throw fsError("EIO", "i/o error");
        }
      });
      const store = create({ fs: fs.fs });
      await store.load();
      const s = new Script();
      const a = workload(s, 4);
      await store.commit(a);
      fail = true;
      await expect(store.commit(workload(s, 4))).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect(store.isHealthy?.()).toBe(false);
      const c = workload(s, 4);
      await store.commit(c);
      await store.close();
      expect((await loadAfterRestart()).loaded).toStrictEqual({
        epoch: expect.any(String),
        snapshot: null,
        tail: [...a, ...c],
      });
    });
  });

  describe("durability", () => {
    it("strict: a commit resolves only after its fsync", async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let syncing: () => void = () => undefined;
      const syncStarted = new Promise<void>((r) => {
        syncing = r;
      });
      const fs = instrument(async (call) => {
        if (call.op === "sync" && call.path.endsWith(".jsonl")) {
          syncing();
          await gate;
        }
      });
      const store = create({ fs: fs.fs });
      await store.load();
      let done = false;
      const commit = store.commit(workload(new Script(), 2)).then(() => {
        done = true;
      });
      await syncStarted;
      // A full event-loop turn: every microtask chain that could resolve the commit has run.
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(false);
      release();
      await commit;
      expect(done).toBe(true);
    });

    it("relaxed: commits resolve before any fsync; one timer fsyncs them, close() flushes and clears it", async () => {
      const time = fakeClock();
      const fs = instrument();
      const store = create({ fs: fs.fs, durability: "relaxed", flushIntervalMs: 250, clock: time.clock });
      await store.load();
      expect(time.pending()).toHaveLength(0);
      const s = new Script();
      await store.commit(workload(s, 3));
      await store.commit(workload(s, 3));
      expect(fs.logCalls("sync")).toBe(0);
      expect(time.pending().map((t) => t.ms)).toEqual([250]);

      await time.fire();
      expect(fs.logCalls("sync")).toBe(1);
      // Nothing written since: no timer until the next commit.
      expect(time.pending()).toHaveLength(0);

      await store.commit(workload(s, 3));
      expect(time.pending()).toHaveLength(1);
      await store.close();
      expect(time.pending()).toHaveLength(0);
      expect(fs.logCalls("sync")).toBe(2);
    });

    it("relaxed: a failed timer fsync marks the store unhealthy until the next commit recovers", async () => {
      const time = fakeClock();
      let fail = true;
      const fs = instrument((call) => {
        if (fail && call.op === "sync" && call.path.endsWith(".jsonl")) {
          fail = false;
          throw fsError("EIO", "i/o error");
        }
      });
      const store = create({ fs: fs.fs, durability: "relaxed", clock: time.clock });
      await store.load();
      const s = new Script();
      const a = workload(s, 3);
      await store.commit(a);
      await time.fire();
      expect(fs.logCalls("sync")).toBe(1);
      expect(store.isHealthy?.()).toBe(false);
      const b = workload(s, 3);
      await store.commit(b);
      expect(store.isHealthy?.()).toBe(true);
      await store.close();
      expect((await loadAfterRestart()).loaded).toStrictEqual({
        epoch: expect.any(String),
        snapshot: null,
        tail: [...a, ...b],
      });
    });
  });

  describe("epoch", () => {
    it("is made once, kept across restarts, and made anew when the epoch file is removed", async () => {
      const first = create();
      const { epoch } = await first.load();
      await first.commit([new Script().set("a", 1)]);
      await first.close();
      expect((await readFile(join(tmp.path, EPOCH_FILE), "utf8")).trim()).toBe(epoch);
      const again = await loadAfterRestart();
      expect(again.loaded.epoch).toBe(epoch);
      await again.store.close();
      // A restored backup whose history must not be mistaken for the one clients saw.
      await unlink(join(tmp.path, EPOCH_FILE));
      const restored = await loadAfterRestart();
      expect(restored.loaded.epoch).not.toBe(epoch);
      expect(restored.loaded.tail).toHaveLength(1); // the data itself is kept
    });

    it("a damaged epoch file is STORAGE_CORRUPT", async () => {
      await writeFile(join(tmp.path, EPOCH_FILE), "not an epoch!\n");
      await expect(create().load()).rejects.toMatchObject({ code: "STORAGE_CORRUPT" });
    });
  });

  describe("lock", () => {
    it("refuses a second store on the same directory until the first closes", async () => {
      const first = create();
      await first.load();
      expect((await readFile(join(tmp.path, LOCK), "utf8")).split(" ")[0]).toBe(String(process.pid));
      const second = create();
      await expect(second.load()).rejects.toMatchObject({
        code: "STORAGE_UNAVAILABLE",
        message: expect.stringContaining(`process ${process.pid}`),
      });
      await first.close();
      await expect(readdir(tmp.path)).resolves.not.toContain(LOCK);
      await expect(second.load()).resolves.toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
    });

    it("refuses a lock held by another live process", async () => {
      await writeFile(join(tmp.path, LOCK), `${process.ppid}\n`);
      await expect(create().load()).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      expect((await readFile(join(tmp.path, LOCK), "utf8")).trim()).toBe(String(process.ppid));
    });

    it.each([
      ["a dead process", `${DEAD_PID}\n`],
      ["no readable pid", "garbage"],
    ])("takes over a lock left by %s", async (_name, content) => {
      await writeFile(join(tmp.path, LOCK), content);
      const store = create();
      await expect(store.load()).resolves.toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
      expect((await readFile(join(tmp.path, LOCK), "utf8")).split(" ")[0]).toBe(String(process.pid));
    });

    /** Start time of a process (field 22 of /proc/<pid>/stat). */
    const startTimeOf = async (pid: number) => {
      const text = await readFile(`/proc/${pid}/stat`, "utf8");
      return text.slice(text.lastIndexOf(")") + 2).split(" ")[19]!;
    };

    it("records its start time, and refuses a live owner whose start time matches", async () => {
      await writeFile(join(tmp.path, LOCK), `${process.ppid} ${await startTimeOf(process.ppid)}\n`);
      await expect(create().load()).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
      const store = create();
      await rm(join(tmp.path, LOCK));
      await store.load();
      expect((await readFile(join(tmp.path, LOCK), "utf8")).trim()).toBe(
        `${process.pid} ${await startTimeOf(process.pid)}`,
      );
    });

    it("takes over a lock whose pid now names another process (a different start time)", async () => {
      const real = await startTimeOf(process.ppid);
      await writeFile(join(tmp.path, LOCK), `${process.ppid} ${Number(real) + 12345}\n`);
      await expect(create().load()).resolves.toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
    });

    it("takes over a lock held by a zombie (killed, not reaped by its parent yet)", async () => {
      // bash forks the owner, then becomes `sleep`, which never reaps it: once killed, the owner is a zombie.
      const parent = spawn("bash", ["-c", "sleep 30 & echo $!; exec sleep 30"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      try {
        const owner = Number((await once(parent.stdout!, "data"))[0].toString().trim());
        await writeFile(join(tmp.path, LOCK), `${owner} ${await startTimeOf(owner)}\n`);
        await expect(create().load()).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
        process.kill(owner, "SIGKILL");
        for (let i = 0; i < 100 && !(await readFile(`/proc/${owner}/stat`, "utf8")).includes(") Z "); i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(await readFile(`/proc/${owner}/stat`, "utf8")).toContain(") Z ");
        await expect(create().load()).resolves.toStrictEqual({ epoch: expect.any(String), snapshot: null, tail: [] });
      } finally {
        parent.kill("SIGKILL");
      }
    });
  });
});

function snapshotJson(segment: number): string {
  return JSON.stringify({ format: 1, segment, revision: 0, lastRequestId: 0, registers: [], requests: [] });
}
