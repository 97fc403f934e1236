// Reading a data directory back on load: the snapshot (or the legacy one), then every live log segment as a stream.

import { join } from "node:path";
import type { Mutation, Snapshot } from "../../core/types.js";
import { keepDamagedTail } from "./damage.js";
import type { FileSystem } from "./fs.js";
import type { StoreLogger } from "./health.js";
import { corrupt, decodeSegment } from "./log-format.js";
import { listSegments, segmentFileName } from "./segments.js";
import { readLegacySnapshotFile, readSnapshotFile } from "./snapshot-file.js";

export interface DirState {
  readonly snapshot: Snapshot | null;
  readonly tail: Mutation[];
  /** Every segment present, live or stale. */
  readonly all: readonly number[];
  /** The segment that follows the snapshot: older ones are stale. */
  readonly first: number;
  /** The newest live segment (commits append to it) and whether it exists yet. */
  readonly newest: number;
  readonly newestExists: boolean;
  /** Bytes of the newest segment up to its last good line; the rest, if any, was copied aside and is to be cut. */
  readonly validLength: number;
  readonly damagedTail: boolean;
}

/**
 * Reads `dir` as load() needs it. Only the last line of the newest segment may be bad: it is copied to
 * damaged-<time>.bin and logged at warn (the caller truncates it). Anything else wrong is STORAGE_CORRUPT.
 */
export async function readDataDir(
  fs: FileSystem,
  dir: string,
  files: { readonly snapshot: string; readonly legacySnapshot: string },
  log: StoreLogger | undefined,
): Promise<DirState> {
  const segmentPath = (seq: number) => join(dir, segmentFileName(seq));
  const snap = (await readSnapshotFile(fs, files.snapshot)) ?? (await readLegacySnapshotFile(fs, files.legacySnapshot));
  const all = await listSegments(fs, dir);
  const first = snap?.segment ?? all[0] ?? 1;
  if (snap === null && first !== 1) {
    throw corrupt(`${files.snapshot} is missing but the log starts at segment ${first}`, files.snapshot);
  }
  const live = all.filter((s) => s >= first);
  for (const [i, s] of live.entries()) {
    if (s !== first + i) throw corrupt(`log segment ${segmentPath(first + i)} is missing`, segmentPath(first + i));
  }
  const tail: Mutation[] = [];
  let validLength = 0;
  let size = 0;
  for (const [i, s] of live.entries()) {
    const decoded = await decodeSegment(fs, segmentPath(s), i === live.length - 1);
    for (const m of decoded.mutations) tail.push(m);
    ({ validLength, size } = decoded);
  }
  const newest = live.at(-1) ?? first;
  if (validLength < size) {
    const damage = await keepDamagedTail(fs, dir, segmentPath(newest), validLength, size);
    log?.warn(
      { storage: "file", ...damage },
      "the end of the log failed its checksum: it was copied aside and cut (those commits were never acknowledged, or the disk damaged them)",
    );
  }
  return {
    snapshot: snap?.snapshot ?? null,
    tail,
    all,
    first,
    newest,
    newestExists: live.length > 0,
    validLength,
    damagedTail: validLength < size,
  };
}
