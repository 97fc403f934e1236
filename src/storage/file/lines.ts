// Checksummed lines ("<crc32 as 8 hex digits> <JSON>\n"), shared by log segments and the snapshot, read as a stream.

import { crc32 } from "node:zlib";
import type { FileSystem } from "./fs.js";

const SPACE = 0x20;
const NEWLINE = 0x0a;
/** 8 hex digits of checksum and a space. */
export const LINE_HEADER = 9;
const HEX8 = /^[0-9a-f]{8}$/;

/** One buffer for the whole line, so that a commit takes one write(). */
export function encodeLine(json: string): Buffer {
  const length = Buffer.byteLength(json);
  const line = Buffer.allocUnsafe(LINE_HEADER + length + 1);
  line.write(json, LINE_HEADER, length, "utf8");
  const sum = crc32(line.subarray(LINE_HEADER, LINE_HEADER + length));
  line.write(sum.toString(16).padStart(8, "0"), 0, 8, "latin1");
  line[LINE_HEADER - 1] = SPACE;
  line[LINE_HEADER + length] = NEWLINE;
  return line;
}

/** The JSON payload of a line (without its newline) whose checksum holds, else null. */
export function checkedPayload(line: Buffer): Buffer | null {
  if (line.length < LINE_HEADER + 2 || line[LINE_HEADER - 1] !== SPACE) return null;
  const hex = line.toString("latin1", 0, LINE_HEADER - 1);
  if (!HEX8.test(hex)) return null;
  const payload = line.subarray(LINE_HEADER);
  return crc32(payload) === Number.parseInt(hex, 16) ? payload : null;
}

export interface RawLine {
  /** The bytes of the line without its newline. */
  readonly bytes: Buffer;
  /** Byte offset of the line in the file. */
  readonly start: number;
  /** False for a last line with no newline (always torn: every write ends with its newline). */
  readonly terminated: boolean;
}

/**
 * The lines of a file, read in fixed-size chunks: memory is bounded by the longest line, never the file,
 * so a state of any size reloads (a whole-file string stops at V8's 512 MiB limit, a Buffer at 2 GiB).
 */
export async function* readLines(fs: FileSystem, path: string): AsyncGenerator<RawLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let start = 0;
  for await (const chunk of fs.readStream(path)) {
    let pos = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, pos);
      if (newline === -1) break;
      const piece = chunk.subarray(pos, newline);
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece], pendingBytes + piece.length);
      pending = [];
      pendingBytes = 0;
      yield { bytes, start, terminated: true };
      start += bytes.length + 1;
      pos = newline + 1;
    }
    if (pos < chunk.length) {
      pending.push(chunk.subarray(pos));
      pendingBytes += chunk.length - pos;
    }
  }
  if (pendingBytes > 0) yield { bytes: Buffer.concat(pending, pendingBytes), start, terminated: false };
}
