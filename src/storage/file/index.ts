// The embedded default store: an append-only, checksummed log of commits plus a snapshot, in one directory.
//
// Layout of `dir`:
//   switchboard.lock        pid of the process using the directory. A second process (or a second store
//                           instance in this process) is refused; a lock left by a dead pid is taken over.
//   epoch                   the history id of this data set, made when the directory is first initialised
//                           (see epoch-file.ts); a wiped directory gets a new one, so clients resync.
//   snapshot.jsonl          the state at the last compaction and the number of the log segment that follows it,
//                           as checksummed chunks of records (see snapshot-file.ts), written and read as a stream.
//   snapshot.json           the same as one JSON document, from earlier versions: read if there is no .jsonl,
//                           deleted by the next compaction.
//   log-<12 digits>.jsonl   log segments, numbered 1, 2, …; one line per commit (see log-format.ts).
//   snapshot.jsonl.tmp      a snapshot being written; a leftover is deleted on load.
//   damaged-<time>.bin      bytes cut from the end of the log because they failed their checksum (kept, never read).
//
// load() reads the snapshot and every segment from the one it names onwards (they must be contiguous), line by
// line: no file is ever held whole. Only the last line of the newest segment may be bad (torn by a crash, or
// damaged): it is copied to damaged-<time>.bin, logged at warn and truncated away. A bad line anywhere else, a
// missing segment or an invalid snapshot is STORAGE_CORRUPT (`switchboard check` / `repair` deal with those).
//
// compact() writes snapshot.jsonl.tmp naming segment N+1, fsyncs it, renames it over snapshot.jsonl, fsyncs the
// directory, creates segment N+1, and only then deletes segments <= N. A crash before the rename leaves the
// old snapshot with all its segments; after it, the new snapshot with N+1 (created by load if missing) and
// stale segments that load() deletes. Either way load() returns exactly the committed state.
//
// Durability "strict" (default): commit() resolves after one write() and one fsync. "relaxed": it resolves
// after the write() and an unref'd timer fsyncs every flushIntervalMs; a machine crash may lose that window.
// After a failed write or fsync isHealthy() is false and the next commit first truncates the segment back to
// the last acknowledged commit, so a rejected commit never reappears on load. Meanwhile a background probe (a
// small write + fsync in the directory, then that same truncation) retries with backoff, so the store turns
// healthy again by itself once the disk takes writes: a node a load balancer took out gets no writes to heal it.

import { join } from "node:path";
import { systemClock } from "../../core/clock.js";
import { SwitchboardError } from "../../core/errors.js";
import type { Clock, LoadResult, Persistence, TimerHandle } from "../../core/ports.js";
import type { Mutation, Snapshot } from "../../core/types.js";
import { loadEpoch } from "./epoch-file.js";
import { type FileHandleLike, type FileSystem, nodeFileSystem, syncDir, unlinkIfExists, writeAll } from "./fs.js";
import { createStoreHealth, errorCode, type StoreLogger } from "./health.js";
import { encodeLine } from "./lines.js";
import { acquireLock, LOCK_FILE, releaseLock } from "./lock.js";
import { encodeCommit } from "./log-format.js";
import { readDataDir } from "./read-dir.js";
import { openSegment as openSegmentFile, segmentFileName } from "./segments.js";
import { writeSnapshotFile } from "./snapshot-file.js";

export type { FileHandleLike, FileSystem } from "./fs.js";
export type { StoreLogger } from "./health.js";

export interface FilePersistenceOptions {
  readonly dir: string;
  /** "strict" (default): a commit resolves once fsynced. "relaxed": once written; fsynced by a timer. */
  readonly durability?: "strict" | "relaxed";
  /** wantsCompaction() turns true when the current log segment reaches this size (default 64 MiB). */
  readonly compactAfterBytes?: number;
  /** Relaxed durability: how long a written commit may wait for its fsync (default 100 ms). */
  readonly flushIntervalMs?: number;
  /** Health probe after a failure: first retry after this long, doubling up to probeMaxDelayMs (100 ms, 5 s). */
  readonly probeMinDelayMs?: number;
  readonly probeMaxDelayMs?: number;
  /** Told once per change of health, and of every damaged tail cut from the log. */
  readonly logger?: StoreLogger;
  /** Called for every storage failure, by operation and errno code (the storage error metric). */
  readonly onError?: (op: string, code: string) => void;
  /** Injected by tests to count fsyncs and inject failures. */
  readonly fs?: FileSystem;
  /** Injected by tests to drive the relaxed-mode flush timer and the probe. Its timers must not hold the process open. */
  readonly clock?: Pick<Clock, "setTimeout" | "clearTimeout">;
}

export const SNAPSHOT_FILE = "snapshot.jsonl";
export const LEGACY_SNAPSHOT_FILE = "snapshot.json";
/**
 * The probe appends this to the log itself, fsyncs, and truncates it away: it tests the very file that failed
 * (a full disk, a file size limit). It is a valid empty commit ("[", 8 KiB of spaces, "]"), big enough to need
 * fresh blocks, so a crash mid-probe leaves at worst a torn tail that load() cuts like any other.
 */
const PROBE_LINE = encodeLine(`[${" ".repeat(8192)}]`);

export function createFilePersistence(options: FilePersistenceOptions): Persistence {
  const fs = options.fs ?? nodeFileSystem;
  const clock = options.clock ?? systemClock;
  const log = options.logger;
  const { dir } = options;
  const strict = (options.durability ?? "strict") === "strict";
  const compactAfterBytes = options.compactAfterBytes ?? 64 * 1024 * 1024;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const snapshotPath = join(dir, SNAPSHOT_FILE);
  const legacySnapshotPath = join(dir, LEGACY_SNAPSHOT_FILE);
  const tmpPath = `${snapshotPath}.tmp`;
  const lockPath = join(dir, LOCK_FILE);
  const segmentPath = (seq: number) => join(dir, segmentFileName(seq));

  let locked = false;
  let loaded = false;
  let closed = false;
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
  /** A write, fsync or rotation failed: the writer must be put back on `committed` before the next append. */
  let needsReset = false;
  /** Commits, compactions and probes run one at a time: a probe truncates what it appended. */
  let queue: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  }
  /** After a failed compaction, none is wanted until this backoff timer fires (the log keeps working). */
  let compactionHeld: TimerHandle | null = null;
  let compactionDelayMs = 1000;

  const health = createStoreHealth({
    clock,
    log,
    onError: options.onError,
    minDelayMs: options.probeMinDelayMs ?? 100,
    maxDelayMs: options.probeMaxDelayMs ?? 5000,
    probe: () =>
      serial(async () => {
        if (closed || !loaded) return;
        const h = await recoverWriter();
        try {
          await writeAll(h, PROBE_LINE);
          await h.sync();
        } finally {
          needsReset = true;
        }
        await recoverWriter();
        health.recovered("probe");
      }),
  });
  function failed(op: string, err: unknown): void {
    needsReset = true;
    health.failed(op, err);
  }

  function assertOpen(): void {
    if (closed) throw new SwitchboardError("STORAGE_UNAVAILABLE", "the file store is closed");
    if (!loaded) throw new SwitchboardError("STORAGE_UNAVAILABLE", "the file store is not loaded: call load() first");
  }

  const openSegment = (n: number) => openSegmentFile(fs, dir, n);

  async function recover(): Promise<LoadResult> {
    await unlinkIfExists(fs, tmpPath);
    const state = await readDataDir(fs, dir, { snapshot: snapshotPath, legacySnapshot: legacySnapshotPath }, log);
    const epoch = await loadEpoch(fs, dir);
    seq = state.newest;
    handle = state.newestExists ? await fs.open(segmentPath(seq), "a") : await openSegment(seq);
    if (state.damagedTail) {
      await handle.truncate(state.validLength);
      await handle.sync();
    }
    committed = state.validLength;
    for (const s of state.all) if (s < state.first) await unlinkIfExists(fs, segmentPath(s));
    firstSeq = state.first;
    needsReset = false;
    health.recovered("load");
    dirty = false;
    loaded = true;
    return { epoch, snapshot: state.snapshot, tail: state.tail };
  }

  /** Puts the writer back on the last acknowledged commit after a failed write, fsync or rotation. */
  async function recoverWriter(): Promise<FileHandleLike> {
    try {
      await flushing;
      if (handle === null) {
        handle = await openSegment(seq);
        committed = 0;
      } else {
        await handle.truncate(committed);
        await handle.sync();
      }
      needsReset = false;
      return handle;
    } catch (err) {
      failed("recover", err);
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
    } catch (err) {
      dirty = true;
      failed("fsync", err);
    }
  }

  function stopTimer(): void {
    if (timer === null) return;
    clock.clearTimeout(timer);
    timer = null;
  }

  function holdCompaction(err: unknown): void {
    options.onError?.("snapshot", errorCode(err));
    // Logged when compaction starts failing, not at every retry (compactionDelayMs grows while it keeps failing).
    if (compactionDelayMs === 1000) {
      log?.warn(
        { storage: "file", op: "snapshot", code: errorCode(err), retryInMs: compactionDelayMs },
        "writing the snapshot failed: the log keeps growing until a later compaction succeeds",
      );
    }
    if (compactionHeld !== null) clock.clearTimeout(compactionHeld);
    compactionHeld = clock.setTimeout(() => {
      compactionHeld = null;
    }, compactionDelayMs);
    compactionDelayMs = Math.min(compactionDelayMs * 2, 5 * 60_000);
  }

  /** Syncs and closes the writer; used by close() and by a repeated load(). */
  async function detachWriter(): Promise<void> {
    stopTimer();
    await flushing;
    await queue;
    loaded = false;
    const h = handle;
    handle = null;
    if (h === null) return;
    try {
      if (needsReset) await h.truncate(committed);
      if (dirty || needsReset) await h.sync();
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

    commit(mutations: readonly Mutation[]): Promise<void> {
      return serial(async () => {
        assertOpen();
        if (mutations.length === 0) return;
        let line: Buffer;
        try {
          line = encodeCommit(mutations);
        } catch (err) {
          throw new SwitchboardError("INTERNAL", "a mutation cannot be serialised as JSON", { cause: err });
        }
        const h = !needsReset && handle !== null ? handle : await recoverWriter();
        try {
          await writeAll(h, line);
          if (strict) await h.sync();
        } catch (err) {
          failed("append", err);
          throw storageError("appending to the log", err);
        }
        health.recovered("commit");
        committed += line.length;
        if (!strict) {
          dirty = true;
          scheduleFlush();
        }
      });
    },

    compact(snapshot: Snapshot): Promise<void> {
      return serial(async () => {
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
          holdCompaction(err);
          throw storageError("writing the snapshot", err);
        }
        if (compactionDelayMs > 1000) log?.info({ storage: "file" }, "writing the snapshot works again");
        compactionDelayMs = 1000;
        // snapshot.jsonl now names `next` as the segment after it: no commit may go to the old one any more.
        const old = handle;
        handle = null;
        seq = next;
        committed = 0;
        dirty = false;
        await old?.close().catch(() => undefined);
        try {
          await unlinkIfExists(fs, legacySnapshotPath);
          await syncDir(fs, dir);
          handle = await openSegment(next);
        } catch (err) {
          failed("rotate", err);
          throw storageError("starting a new log segment", err);
        }
        needsReset = false;
        health.recovered("new log segment");
        for (let s = firstSeq; s < next; s++) await unlinkIfExists(fs, segmentPath(s));
        firstSeq = next;
      });
    },

    wantsCompaction: () => loaded && health.healthy && compactionHeld === null && committed >= compactAfterBytes,

    isHealthy: () => health.healthy && !closed,

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      let failure: unknown;
      try {
        await detachWriter();
      } catch (err) {
        failure = err;
      }
      health.close();
      if (compactionHeld !== null) clock.clearTimeout(compactionHeld);
      compactionHeld = null;
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
