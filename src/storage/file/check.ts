// Offline verification and repair of a file-store directory: every checksum read, the first bad record found, and
// (for repair) the log cut there with the cut bytes and any later segments kept beside it.

import { join } from "node:path";
import { isSwitchboardError } from "../../core/errors.js";
import { type DamagedTail, damagedName, keepDamagedTail } from "./damage.js";
import { type FileSystem, nodeFileSystem, syncDir } from "./fs.js";
import { acquireLock, LOCK_FILE, releaseLock } from "./lock.js";
import { decodeSegment } from "./log-format.js";
import { listSegments, segmentFileName } from "./segments.js";
import { readLegacySnapshotFile, readSnapshotFile } from "./snapshot-file.js";

export interface SegmentReport {
  readonly file: string;
  readonly bytes: number;
  /** Good commits (lines) read. */
  readonly commits: number;
}

export interface CheckReport {
  readonly dir: string;
  readonly ok: boolean;
  readonly snapshot: { file: string; segment: number; revision: number; registers: number; requests: number } | null;
  readonly segments: readonly SegmentReport[];
  /** Where the log first goes bad: repair cuts there. Null when the log is sound. */
  readonly firstBad: { readonly file: string; readonly byte: number; readonly reason: string } | null;
  /** Problems repair cannot fix by cutting the log (a damaged snapshot, a missing segment). */
  readonly fatal: readonly string[];
}

export async function checkDataDir(dir: string, fs: FileSystem = nodeFileSystem): Promise<CheckReport> {
  const fatal: string[] = [];
  let snapshot: CheckReport["snapshot"] = null;
  let first = 1;
  for (const name of ["snapshot.jsonl", "snapshot.json"]) {
    try {
      const read = name.endsWith("l") ? readSnapshotFile : readLegacySnapshotFile;
      const snap = await read(fs, join(dir, name));
      if (snap === null) continue;
      const { registers, requests, revision } = snap.snapshot;
      snapshot = {
        file: name,
        segment: snap.segment,
        revision,
        registers: registers.length,
        requests: requests.length,
      };
      first = snap.segment;
      break;
    } catch (err) {
      fatal.push(isSwitchboardError(err) ? err.message : String(err));
      break;
    }
  }
  const all = (await listSegments(fs, dir)).filter((s) => s >= first);
  if (snapshot === null && fatal.length === 0 && all.length > 0 && all[0] !== 1) {
    fatal.push(`there is no snapshot but the log starts at segment ${all[0]}`);
  }
  const segments: SegmentReport[] = [];
  let firstBad: CheckReport["firstBad"] = null;
  for (const [i, s] of all.entries()) {
    const file = segmentFileName(s);
    if (i > 0 && s !== all[i - 1]! + 1) fatal.push(`log segment ${segmentFileName(all[i - 1]! + 1)} is missing`);
    try {
      // Checked as if newest: a bad last line of any segment is reported, not thrown.
      const d = await decodeSegment(fs, join(dir, file), true, false);
      segments.push({ file, bytes: d.size, commits: d.lines });
      if (d.validLength < d.size && firstBad === null) {
        firstBad = { file, byte: d.validLength, reason: "the last line fails its checksum (a torn or damaged commit)" };
      } else if (d.validLength < d.size) {
        fatal.push(`${file} ends with a damaged line after the earlier damage`);
      }
    } catch (err) {
      const details = isSwitchboardError(err) ? (err.details as { byte?: number } | undefined) : undefined;
      if (details?.byte !== undefined && firstBad === null) {
        firstBad = { file, byte: details.byte, reason: (err as Error).message };
        segments.push({ file, bytes: -1, commits: -1 });
      } else {
        fatal.push(err instanceof Error ? err.message : String(err));
      }
    }
  }
  return { dir, ok: firstBad === null && fatal.length === 0, snapshot, segments, firstBad, fatal };
}

export interface RepairResult {
  /** The cut tail of the damaged segment, kept in damaged-<time>.bin. */
  readonly cut: DamagedTail;
  /** Later segments moved aside whole (their commits followed the damage, so they cannot be replayed). */
  readonly movedAside: readonly string[];
}

/**
 * Cuts the log at report.firstBad: the bytes from there are copied to damaged-<time>.bin, the segment is truncated,
 * and later segments are renamed damaged-<time>-log-….jsonl. Takes the directory's lock (refused while a server
 * runs). Everything acknowledged before the damage is kept; everything after it is kept aside, not replayed.
 */
export async function repairDataDir(
  report: CheckReport,
  fs: FileSystem = nodeFileSystem,
): Promise<RepairResult | null> {
  const bad = report.firstBad;
  if (bad === null) return null;
  const { dir } = report;
  const lockPath = join(dir, LOCK_FILE);
  await acquireLock(fs, lockPath);
  try {
    const path = join(dir, bad.file);
    const size = report.segments.find((s) => s.file === bad.file)?.bytes ?? -1;
    const end = size >= 0 ? size : await fileSize(fs, path);
    const cut = await keepDamagedTail(fs, dir, path, bad.byte, end);
    const h = await fs.open(path, "r+");
    try {
      await h.truncate(bad.byte);
      await h.sync();
    } finally {
      await h.close();
    }
    const movedAside: string[] = [];
    const stamp = (await damagedName(fs, dir, new Date())).replace(/\.bin$/, "");
    for (const s of report.segments) {
      if (s.file <= bad.file) continue;
      const aside = `${stamp}-${s.file}`;
      await fs.rename(join(dir, s.file), join(dir, aside));
      movedAside.push(aside);
    }
    await syncDir(fs, dir);
    return { cut, movedAside };
  } finally {
    await releaseLock(fs, lockPath);
  }
}

async function fileSize(fs: FileSystem, path: string): Promise<number> {
  let size = 0;
  for await (const chunk of fs.readStream(path)) size += chunk.length;
  return size;
}
