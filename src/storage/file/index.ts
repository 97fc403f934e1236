// The embedded default store: an append-only, checksummed log of commits plus a snapshot, in one directory.
//
// Layout of `dir`:
//   switchboard.lock        pid of the process using the directory. A second process (or a second store
//                           instance in this process) is refused; a lock left by a dead pid is taken over.
//   epoch                   the history id of this data set, made when the directory is first initialised
//                           (see epoch-file.ts); a wiped directory gets a new one, so clients resync.
//   snapshot.json           {format, segment, epoch, revision, lastRequestId, registers, requests}: the state at
//                           the last compaction and the number of the log segment that follows it.
//   log-<12 digits>.jsonl   log segments, numbered 1, 2, …; one line per commit (see log-format.ts).
//   snapshot.json.tmp       a snapshot being written; a leftover is deleted on load.
//
// load() reads snapshot.json and every segment from the one it names onwards (they must be contiguous).
// Only the last line of the newest segment may be torn by a crash: it is dropped and truncated away. A bad
// line anywhere else, a missing segment or an invalid snapshot is STORAGE_CORRUPT.
//
// compact() writes snapshot.json.tmp naming segment N+1, fsyncs it, renames it over snapshot.json, fsyncs the
// directory, creates segment N+1, and only then deletes segments <= N. A crash before the rename leaves the
// old snapshot with all its segments; after it, the new snapshot with N+1 (created by load if missing) and
// stale segments that load() deletes. Either way load() returns exactly the committed state.
//
// Durability "strict" (default): commit() resolves after one write() and one fsync. "relaxed": it resolves
// after the write() and an unref'd timer fsyncs every flushIntervalMs; a machine crash may lose that window.
// After a failed write or fsync isHealthy() is false and the next commit first truncates the segment back to
// the last acknowledged commit, so a rejected commit never reappears on load.

import { join } from "node:path";
import { systemClock } from "../../core/clock.js";
import { SwitchboardError } from "../../core/errors.js";
import type { Clock, LoadResult, Persistence, TimerHandle } from "../../core/ports.js";
import type { Mutation, Snapshot } from "../../core/types.js";
import { loadEpoch } from "./epoch-file.js";
import { type FileHandleLike, type FileSystem, nodeFileSystem, syncDir, unlinkIfExists, writeAll } from "./fs.js";
import { acquireLock, LOCK_FILE, releaseLock } from "./lock.js";
import { corrupt, decodeSegment, encodeCommit } from "./log-format.js";
import { listSegments, openSegment as openSegmentFile, segmentFileName } from "./segments.js";
import { readSnapshotFile, writeSnapshotFile } from "./snapshot-file.js";

export type { FileHandleLike, FileSystem } from "./fs.js";

export interface FilePersistenceOptions {
  readonly dir: string;
  /** "strict" (default): a commit resolves once fsynced. "relaxed": once written; fsynced by a timer. */
  readonly durability?: "strict" | "relaxed";
  /** wantsCompaction() turns true when the current log segment reaches this size (default 64 MiB). */
  readonly compactAfterBytes?: number;
  /** Relaxed durability: how long a written commit may wait for its fsync (default 100 ms). */
  readonly flushIntervalMs?: number;
  /** Injected by tests to count fsyncs and inject failures. */
  readonly fs?: FileSystem;
  /** Injected by tests to drive the relaxed-mode flush timer. Its timers must not hold the process open. */
  readonly clock?: Pick<Clock, "setTimeout" | "clearTimeout">;
}

export const SNAPSHOT_FILE = "snapshot.json";

export function createFilePersistence(options: FilePersistenceOptions): Persistence {
  const fs = options.fs ?? nodeFileSystem;
  const clock = options.clock ?? systemClock;
  const { dir } = options;
  const strict = (options.durability ?? "strict") === "strict";
  const compactAfterBytes = options.compactAfterBytes ?? 64 * 1024 * 1024;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const tmpPath = `${snapshotPath}.tmp`;
  const lockPath = join(dir, LOCK_FILE);
  const segmentPath = (seq: number) => join(dir, segmentFileName(seq));

  let locked = false;
  let loaded = false;
  let closed = false;
  let healthy = true;
  /** The newest segment, which commits append to; null only after a failed rotation. */
  let handle: FileHandleLike | null = null;
  let seq = 1;
  /** The oldest segment load() would read: everything from here to `seq` is deleted by compaction. */
  let firstSeq = 1;
  /** Bytes of acknowledged commits in the newest segment. */
  let committed = 0;
  /** Relaxed durability: acknowledged bytes not fsynced yet. */
  let dirty = false;
  let timer: TimerHandle | null = null;
  let flushing: Promise<void> = Promise.resolve();

  function assertOpen(): void {
    if (closed) throw new SwitchboardError("STORAGE_UNAVAILABLE", "the file store is closed");
    if (!loaded) throw new SwitchboardError("STORAGE_UNAVAILABLE", "the file store is not loaded: call load() first");
  }

  const openSegment = (n: number) => openSegmentFile(fs, dir, n);

  async function recover(): Promise<LoadResult> {
    await unlinkIfExists(fs, tmpPath);
    const snap = await readSnapshotFile(fs, snapshotPath);
    const epoch = await loadEpoch(fs, dir);
    const all = await listSegments(fs, dir);
    const first = snap?.segment ?? all[0] ?? 1;
    if (snap === null && first !== 1) {
      throw corrupt(`${snapshotPath} is missing but the log starts at segment ${first}`, snapshotPath);
    }
    const live = all.filter((s) => s >= first);
    for (const [i, s] of live.entries()) {
      if (s !== first + i) throw corrupt(`log segment ${segmentPath(first + i)} is missing`, segmentPath(first + i));
    }
    const tail: Mutation[] = [];
    let validLength = 0;
    let torn = false;
    for (const [i, s] of live.entries()) {
      const file = segmentPath(s);
      const decoded = decodeSegment(await fs.readFile(file), file, i === live.length - 1);
      for (const m of decoded.mutations) tail.push(m);
      ({ validLength, torn } = decoded);
    }
    seq = live.at(-1) ?? first;
    handle = live.length === 0 ? await openSegment(seq) : await fs.open(segmentPath(seq), "a");
    if (torn) {
      await handle.truncate(validLength);
      await handle.sync();
    }
    committed = validLength;
    for (const s of all) if (s < first) await unlinkIfExists(fs, segmentPath(s));
    firstSeq = first;
    healthy = true;
    dirty = false;
    loaded = true;
    return { epoch, snapshot: snap?.snapshot ?? null, tail };
  }

  /** Puts the writer back on the last acknowledged commit after a failed write, fsync or rotation. */
  async function reopenWriter(): Promise<FileHandleLike> {
    try {
      await flushing;
      if (handle === null) {
        handle = await openSegment(seq);
        committed = 0;
      } else {
        await handle.truncate(committed);
        await handle.sync();
      }
      healthy = true;
      return handle;
    } catch (err) {
      throw storageError("recovering the log after a failed write", err);
    }
  }

  function scheduleFlush(): void {
    if (timer !== null || closed) return;
    // The callback returns the flush so that a test clock can await it; real timers ignore it.
    timer = clock.setTimeout(() => {
      timer = null;
      flushing = flushing.then(flush);
      return flushing;
    }, flushIntervalMs);
  }

  async function flush(): Promise<void> {
    const h = handle;
    if (!dirty || h === null) return;
    dirty = false;
    try {
      await h.sync();
    } catch {
      dirty = true;
      healthy = false;
    }
  }

  function stopTimer(): void {
    if (timer === null) return;
    clock.clearTimeout(timer);
    timer = null;
  }

  /** Syncs and closes the writer; used by close() and by a repeated load(). */
  async function detachWriter(): Promise<void> {
    stopTimer();
    await flushing;
    loaded = false;
    const h = handle;
    handle = null;
    if (h === null) return;
    try {
      if (!healthy) await h.truncate(committed);
      if (dirty || !healthy) await h.sync();
      dirty = false;
    } finally {
      await h.close();
    }
  }

  return {
    name: "file",

    async load(): Promise<LoadResult> {
      if (closed) throw new SwitchboardError("STORAGE_UNAVAILABLE", "the file store is closed");
      try {
        if (locked) {
          await detachWriter();
        } else {
          await fs.mkdir(dir, { recursive: true });
          await acquireLock(fs, lockPath);
          locked = true;
        }
        return await recover();
      } catch (err) {
        await detachWriter().catch(() => undefined);
        if (locked) {
          locked = false;
          await releaseLock(fs, lockPath).catch(() => undefined);
        }
        throw storageError(`loading ${dir}`, err);
      }
    },

    async commit(mutations: readonly Mutation[]): Promise<void> {
      assertOpen();
      if (mutations.length === 0) return;
      let line: Buffer;
      try {
        line = encodeCommit(mutations);
      } catch (err) {
        throw new SwitchboardError("INTERNAL", "a mutation cannot be serialised as JSON", { cause: err });
      }
      const h = healthy && handle !== null ? handle : await reopenWriter();
      try {
        await writeAll(h, line);
        if (strict) await h.sync();
      } catch (err) {
        healthy = false;
        throw storageError("appending to the log", err);
      }
      committed += line.length;
      if (!strict) {
        dirty = true;
        scheduleFlush();
      }
    },

    async compact(snapshot: Snapshot): Promise<void> {
      assertOpen();
      // The flush timer must not fsync a handle that the rotation below closes.
      stopTimer();
      await flushing;
      const next = seq + 1;
      try {
        await writeSnapshotFile(fs, tmpPath, snapshot, next);
        await fs.rename(tmpPath, snapshotPath);
      } catch (err) {
        await unlinkIfExists(fs, tmpPath).catch(() => undefined);
        if (dirty) scheduleFlush();
        throw storageError("writing the snapshot", err);
      }
      // snapshot.json now names `next` as the segment after it: no commit may go to the old one any more.
      const old = handle;
      handle = null;
      seq = next;
      committed = 0;
      dirty = false;
      await old?.close().catch(() => undefined);
      try {
        await syncDir(fs, dir);
        handle = await openSegment(next);
      } catch (err) {
        healthy = false;
        throw storageError("starting a new log segment", err);
      }
      healthy = true;
      for (let s = firstSeq; s < next; s++) await unlinkIfExists(fs, segmentPath(s));
      firstSeq = next;
    },

    wantsCompaction: () => loaded && committed >= compactAfterBytes,

    isHealthy: () => healthy && !closed,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      let failure: unknown;
      try {
        await detachWriter();
      } catch (err) {
        failure = err;
      }
      if (locked) {
        locked = false;
        await releaseLock(fs, lockPath).catch((err: unknown) => {
          failure ??= err;
        });
      }
      if (failure !== undefined) throw storageError("closing the log", failure);
    },
  };
}

function storageError(what: string, err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new SwitchboardError("STORAGE_UNAVAILABLE", `file store: ${what} failed: ${reason}`, { cause: err });
}
