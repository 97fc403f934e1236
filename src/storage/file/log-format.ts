// Log segments: one checksummed line per commit (a JSON array of mutations), and their streaming decoding.

import { SwitchboardError } from "../../core/errors.js";
import type { Mutation } from "../../core/types.js";
import type { FileSystem } from "./fs.js";
import { checkedPayload, encodeLine, readLines } from "./lines.js";
import { commitSchema } from "./schema.js";

/** One buffer for the whole commit, so that it takes one write(). */
export function encodeCommit(mutations: readonly Mutation[]): Buffer {
  return encodeLine(JSON.stringify(mutations));
}

export interface DecodedSegment {
  readonly mutations: Mutation[];
  /** Bytes up to the end of the last good line: the rest (a damaged tail) is to be truncated. */
  readonly validLength: number;
  /** Size of the file as read; validLength < size means a damaged tail was left out. */
  readonly size: number;
  /** Lines read in full (good ones). */
  readonly lines: number;
}

/**
 * Decodes one segment as a stream. Only the final line of the newest segment may be bad (a write torn by a
 * crash, or a damaged last commit): it is reported through validLength and left out. A bad line anywhere
 * else means data after it would be lost: STORAGE_CORRUPT. With `collect: false` only the checks run.
 */
export async function decodeSegment(
  fs: FileSystem,
  file: string,
  isNewest: boolean,
  collect = true,
): Promise<DecodedSegment> {
  const mutations: Mutation[] = [];
  let lineNo = 0;
  let validLength = 0;
  /** A bad line seen: fine only if nothing follows it. */
  let bad: { lineNo: number; start: number } | null = null;
  let size = 0;
  for await (const line of readLines(fs, file)) {
    lineNo += 1;
    size = line.start + line.bytes.length + (line.terminated ? 1 : 0);
    if (bad !== null) break;
    const payload = line.terminated ? checkedPayload(line.bytes) : null;
    if (payload === null) {
      bad = { lineNo, start: line.start };
      continue;
    }
    const parsed = commitSchema.safeParse(parseJson(payload, file, lineNo));
    if (!parsed.success) {
      throw corrupt(`${file}: line ${lineNo} has a valid checksum but is not a list of mutations`, file, parsed.error);
    }
    if (collect) for (const m of parsed.data) mutations.push(m);
    validLength = line.start + line.bytes.length + 1;
  }
  if (bad !== null && (!isNewest || lineNo > bad.lineNo)) {
    throw corrupt(
      `${file}: line ${bad.lineNo} (byte ${bad.start}) is damaged and is not the last line of the log`,
      file,
      undefined,
      { line: bad.lineNo, byte: bad.start },
    );
  }
  return { mutations, validLength, size, lines: bad === null ? lineNo : lineNo - 1 };
}

function parseJson(payload: Buffer, file: string, lineNo: number): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch (err) {
    throw corrupt(`${file}: line ${lineNo} has a valid checksum but is not JSON`, file, err);
  }
}

export function corrupt(
  message: string,
  file: string,
  cause?: unknown,
  where: Record<string, number> = {},
): SwitchboardError {
  const details = { file, ...where };
  return new SwitchboardError("STORAGE_CORRUPT", message, cause === undefined ? { details } : { details, cause });
}
