// The snapshot, written and read as a stream of checksummed lines (snapshot.jsonl), plus the legacy snapshot.json reader.
//
// snapshot.jsonl is a head line {format, segment, revision, lastRequestId}, then lines of at most CHUNK_RECORDS
// registers ({"registers": [...]}), requests ({"requests": [...]}) or final outcomes of the request history
// ({"outcomes": [...]}, absent in older files) and at most about CHUNK_BYTES each, then an end line
// {"end": {registers, requests, outcomes?}} with the counts. Every line carries its own CRC32 (lines.ts), so a damaged
// snapshot is found at the exact chunk, and no step ever holds more than one chunk as a string.

import type { ChangeRequest, FinishedOutcome, Register, Snapshot } from "../../core/types.js";
import { errnoCode, type FileHandleLike, type FileSystem, writeAll } from "./fs.js";
import { checkedPayload, encodeLine, readLines } from "./lines.js";
import { corrupt } from "./log-format.js";
import {
  LEGACY_SNAPSHOT_FORMAT,
  legacySnapshotFileSchema,
  SNAPSHOT_FORMAT,
  type SnapshotFile,
  snapshotChunkSchema,
  snapshotHeadSchema,
} from "./schema.js";

const CHUNK_RECORDS = 1024;
const CHUNK_BYTES = 1024 * 1024;
/** The legacy reader holds the whole file as one string: refuse before V8 does, with a clear message. */
const LEGACY_MAX_BYTES = 256 * 1024 * 1024;

export async function writeSnapshotFile(fs: FileSystem, path: string, snapshot: Snapshot, segment: number) {
  const handle = await fs.open(path, "w");
  try {
    const head = {
      format: SNAPSHOT_FORMAT,
      segment,
      ...(snapshot.epoch === undefined ? {} : { epoch: snapshot.epoch }),
      revision: snapshot.revision,
      lastRequestId: snapshot.lastRequestId,
    };
    await writeAll(handle, encodeLine(JSON.stringify(head)));
    await writeChunks(handle, "registers", snapshot.registers);
    await writeChunks(handle, "requests", snapshot.requests);
    const outcomes = snapshot.outcomes ?? [];
    await writeChunks(handle, "outcomes", outcomes);
    const end = {
      end: { registers: snapshot.registers.length, requests: snapshot.requests.length, outcomes: outcomes.length },
    };
    await writeAll(handle, encodeLine(JSON.stringify(end)));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeChunks(handle: FileHandleLike, key: string, items: readonly unknown[]): Promise<void> {
  let parts: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (parts.length === 0) return;
    const line = encodeLine(`{"${key}":[${parts.join(",")}]}`);
    parts = [];
    bytes = 0;
    await writeAll(handle, line);
  };
  for (const item of items) {
    const json = JSON.stringify(item);
    parts.push(json);
    bytes += json.length;
    if (parts.length >= CHUNK_RECORDS || bytes >= CHUNK_BYTES) await flush();
  }
  await flush();
}

/** The snapshot and the segment that follows it, or null when there is no snapshot file. */
export async function readSnapshotFile(fs: FileSystem, path: string): Promise<SnapshotFile | null> {
  const registers: Register[] = [];
  const requests: ChangeRequest[] = [];
  const outcomes: FinishedOutcome[] = [];
  let head: ReturnType<typeof snapshotHeadSchema.parse> | null = null;
  let ended = false;
  let lineNo = 0;
  try {
    for await (const line of readLines(fs, path)) {
      lineNo += 1;
      const at = { line: lineNo, byte: line.start };
      if (ended) throw corrupt(`${path}: line ${lineNo} follows the end of the snapshot`, path, undefined, at);
      const payload = line.terminated ? checkedPayload(line.bytes) : null;
      if (payload === null)
        throw corrupt(`${path}: line ${lineNo} (byte ${line.start}) is damaged`, path, undefined, at);
      const raw = parseLine(payload, path, lineNo);
      if (head === null) {
        const parsed = snapshotHeadSchema.safeParse(raw);
        if (!parsed.success) throw corrupt(`${path}: the first line is not a snapshot head`, path, parsed.error, at);
        head = parsed.data;
        continue;
      }
      const parsed = snapshotChunkSchema.safeParse(raw);
      if (!parsed.success) throw corrupt(`${path}: line ${lineNo} is not a snapshot chunk`, path, parsed.error, at);
      const chunk = parsed.data;
      if ("registers" in chunk) for (const r of chunk.registers) registers.push(r);
      else if ("requests" in chunk) for (const r of chunk.requests) requests.push(r);
      else if ("outcomes" in chunk) for (const o of chunk.outcomes) outcomes.push(o);
      else {
        const counts = chunk.end;
        if (
          counts.registers !== registers.length ||
          counts.requests !== requests.length ||
          (counts.outcomes ?? 0) !== outcomes.length
        ) {
          throw corrupt(`${path}: the snapshot's counts do not match its records`, path, undefined, at);
        }
        ended = true;
      }
    }
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
  if (head === null || !ended) throw corrupt(`${path} is incomplete (no end line)`, path);
  const { segment, revision, lastRequestId } = head;
  return {
    segment,
    snapshot: { revision, lastRequestId, registers, requests, ...(outcomes.length > 0 ? { outcomes } : {}) },
  };
}

function parseLine(payload: Buffer, path: string, lineNo: number): unknown {
  try {
    return JSON.parse(payload.toString("utf8"));
  } catch (err) {
    throw corrupt(`${path}: line ${lineNo} has a valid checksum but is not JSON`, path, err, { line: lineNo });
  }
}

/** snapshot.json as written by earlier versions: one JSON document, read whole (they wrote no larger ones). */
export async function readLegacySnapshotFile(fs: FileSystem, path: string): Promise<SnapshotFile | null> {
  let data: Buffer;
  try {
    data = await fs.readFile(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
  if (data.length > LEGACY_MAX_BYTES) {
    throw corrupt(`${path} is a ${data.length}-byte legacy snapshot, too large to read as one document`, path);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw corrupt(`${path} is not valid JSON`, path, err);
  }
  const parsed = legacySnapshotFileSchema.safeParse(raw);
  if (!parsed.success) throw corrupt(`${path} does not have the shape of a snapshot`, path, parsed.error);
  const { segment, format: _format, ...snapshot } = parsed.data;
  return { segment, snapshot };
}

export { LEGACY_SNAPSHOT_FORMAT };
