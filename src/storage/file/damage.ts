// A damaged log tail is never just dropped: its bytes are copied beside the log and described for the operator.

import { basename, join } from "node:path";
import { type FileSystem, syncDir, writeAll } from "./fs.js";

export interface DamagedTail {
  readonly file: string;
  /** Byte range [from, to) of the file that is cut away. */
  readonly from: number;
  readonly to: number;
  /** Where the bytes were kept. */
  readonly copy: string;
  /** Revisions named in the damaged bytes (best effort: the bytes failed their checksum). */
  readonly revisions: { readonly first: number; readonly last: number } | null;
}

/** damaged-<UTC time>.bin: sorts by time; a second damage in the same millisecond gets a suffix. */
export async function damagedName(fs: FileSystem, dir: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const taken = new Set(await fs.readdir(dir));
  for (let i = 0; i < 1000; i++) {
    const name = `damaged-${stamp}${i === 0 ? "" : `-${i}`}.bin`;
    if (!taken.has(name)) return name;
  }
  throw new Error(`cannot find a free damaged-*.bin name in ${dir}`);
}

/** Copies bytes [from, to) of `file` to a new damaged-<time>.bin in `dir`, fsynced, and describes them. */
export async function keepDamagedTail(
  fs: FileSystem,
  dir: string,
  file: string,
  from: number,
  to: number,
  now: Date = new Date(),
): Promise<DamagedTail> {
  const copy = join(dir, await damagedName(fs, dir, now));
  const out = await fs.open(copy, "wx");
  const revisions = { first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY };
  try {
    for await (const chunk of fs.readStream(file, { start: from, end: to - 1 })) {
      await writeAll(out, chunk);
      // A revision split across two chunks is missed: this is a hint for the operator, not an inventory.
      for (const m of chunk.toString("latin1").matchAll(/"revision":(\d+)/g)) {
        const r = Number(m[1]);
        if (r < revisions.first) revisions.first = r;
        if (r > revisions.last) revisions.last = r;
      }
    }
    await out.sync();
  } finally {
    await out.close();
  }
  await syncDir(fs, dir);
  return {
    file: basename(file),
    from,
    to,
    copy: basename(copy),
    revisions: Number.isFinite(revisions.first) ? revisions : null,
  };
}
