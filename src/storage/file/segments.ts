// Log segment files: their names, the numbers present in the directory, and opening one for appending.

import { join } from "node:path";
import { type FileHandleLike, type FileSystem, syncDir } from "./fs.js";

const SEGMENT_PATTERN = /^log-(\d{12})\.jsonl$/;

export function segmentFileName(seq: number): string {
  return `log-${String(seq).padStart(12, "0")}.jsonl`;
}

/** The segment numbers present in `dir`, ascending. */
export async function listSegments(fs: FileSystem, dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await fs.readdir(dir)) {
    const match = SEGMENT_PATTERN.exec(entry);
    if (match?.[1] !== undefined) found.push(Number(match[1]));
  }
  return found.sort((a, b) => a - b);
}

/** Opens (creating if needed) a segment for appending, with its directory entry made durable. */
export async function openSegment(fs: FileSystem, dir: string, seq: number): Promise<FileHandleLike> {
  const handle = await fs.open(join(dir, segmentFileName(seq)), "a");
  try {
    await syncDir(fs, dir);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return handle;
}
