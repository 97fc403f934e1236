// Log segments: one line per commit, "<crc32 as 8 hex digits> <JSON array of mutations>\n", and their decoding.

import { crc32 } from "node:zlib";
import { SwitchboardError } from "../../core/errors.js";
import type { Mutation } from "../../core/types.js";
import { commitSchema } from "./schema.js";

const SPACE = 0x20;
const NEWLINE = 0x0a;
/** 8 hex digits of checksum and a space. */
const HEADER = 9;
const HEX8 = /^[0-9a-f]{8}$/;

/** One buffer for the whole commit, so that it takes one write(). */
export function encodeCommit(mutations: readonly Mutation[]): Buffer {
  const json = JSON.stringify(mutations);
  const length = Buffer.byteLength(json);
  const line = Buffer.allocUnsafe(HEADER + length + 1);
  line.write(json, HEADER, length, "utf8");
  const sum = crc32(line.subarray(HEADER, HEADER + length));
  line.write(sum.toString(16).padStart(8, "0"), 0, 8, "latin1");
  line[HEADER - 1] = SPACE;
  line[HEADER + length] = NEWLINE;
  return line;
}

export interface DecodedSegment {
  readonly mutations: Mutation[];
  /** Bytes up to the end of the last good line: the rest (a torn line) is to be truncated. */
  readonly validLength: number;
  readonly torn: boolean;
}

/**
 * Decodes one segment. Only the final line of the newest segment may be bad (a write torn by a
 * crash): it is reported and left out. A bad line anywhere else means data was lost: STORAGE_CORRUPT.
 */
export function decodeSegment(data: Buffer, file: string, isNewest: boolean): DecodedSegment {
  const mutations: Mutation[] = [];
  let pos = 0;
  let lineNo = 0;
  while (pos < data.length) {
    lineNo += 1;
    const newline = data.indexOf(NEWLINE, pos);
    const end = newline === -1 ? data.length : newline;
    const isFinal = end >= data.length - 1;
    // An unterminated line is always torn: every commit writes its newline in the same write().
    const payload = newline === -1 ? null : checkedPayload(data.subarray(pos, end));
    if (payload === null) {
      if (isNewest && isFinal) return { mutations, validLength: pos, torn: true };
      throw corrupt(`${file}: line ${lineNo} (byte ${pos}) is damaged and is not the last line of the log`, file);
    }
    const parsed = commitSchema.safeParse(parseJson(payload, file, lineNo));
    if (!parsed.success) {
      throw corrupt(`${file}: line ${lineNo} has a valid checksum but is not a list of mutations`, file, parsed.error);
    }
    for (const m of parsed.data) mutations.push(m);
    pos = end + 1;
  }
  return { mutations, validLength: pos, torn: false };
}

function checkedPayload(line: Buffer): Buffer | null {
  if (line.length < HEADER + 2 || line[HEADER - 1] !== SPACE) return null;
  const hex = line.toString("latin1", 0, HEADER - 1);
  if (!HEX8.test(hex)) return null;
  const payload = line.subarray(HEADER);
  return crc32(payload) === Number.parseInt(hex, 16) ? payload : null;
}

function parseJson(payload: Buffer, file: string, lineNo: number): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch (err) {
    throw corrupt(`${file}: line ${lineNo} has a valid checksum but is not JSON`, file, err);
  }
}

export function corrupt(message: string, file: string, cause?: unknown): SwitchboardError {
  return new SwitchboardError(
    "STORAGE_CORRUPT",
    message,
    cause === undefined ? { details: { file } } : { details: { file }, cause },
  );
}
