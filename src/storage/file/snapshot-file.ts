// snapshot.json: written in chunks to a temp file, fsynced and renamed into place; read back through zod.

import type { Snapshot } from "../../core/types.js";
import { errnoCode, type FileSystem, writeAll } from "./fs.js";
import { corrupt } from "./log-format.js";
import { SNAPSHOT_FORMAT, type SnapshotFile, snapshotFileSchema } from "./schema.js";

/** Registers or requests per write: keeps a large state from becoming one huge string. */
const CHUNK = 1024;

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
    await writeAll(handle, Buffer.from(`${JSON.stringify(head).slice(0, -1)},"registers":[`));
    await writeArray(handle, snapshot.registers);
    await writeAll(handle, Buffer.from('],"requests":['));
    await writeArray(handle, snapshot.requests);
    await writeAll(handle, Buffer.from("]}\n"));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeArray(handle: Awaited<ReturnType<FileSystem["open"]>>, items: readonly unknown[]): Promise<void> {
  for (let start = 0; start < items.length; start += CHUNK) {
    const chunk = JSON.stringify(items.slice(start, start + CHUNK)).slice(1, -1);
    await writeAll(handle, Buffer.from(start === 0 ? chunk : `,${chunk}`));
  }
}

/** The snapshot and the segment that follows it, or null when there is no snapshot yet. */
export async function readSnapshotFile(fs: FileSystem, path: string): Promise<SnapshotFile | null> {
  let data: Buffer;
  try {
    data = await fs.readFile(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw corrupt(`${path} is not valid JSON`, path, err);
  }
  const parsed = snapshotFileSchema.safeParse(raw);
  if (!parsed.success) throw corrupt(`${path} does not have the shape of a snapshot`, path, parsed.error);
  const { segment, format: _format, ...snapshot } = parsed.data;
  return { segment, snapshot };
}
