// The data dir's `epoch` file: the history id made when the directory was first initialised.

import { join } from "node:path";
import { EPOCH_PATTERN, newEpoch } from "../epoch.js";
import { errnoCode, type FileSystem, syncDir, unlinkIfExists, writeAll } from "./fs.js";
import { corrupt } from "./log-format.js";

export const EPOCH_FILE = "epoch";

/**
 * The directory's epoch. Made on first use and written before any commit can be acknowledged
 * (temp file, fsync, rename, directory fsync), so an acknowledged write never belongs to an epoch
 * that a crash could replace. A directory from before epochs existed gets one now (its clients
 * resync once). snapshot.json repeats the epoch: a missing file is restored from it, and a snapshot
 * of another data set is refused rather than mixed in.
 */
export async function loadEpoch(fs: FileSystem, dir: string, snapshotEpoch: string | undefined): Promise<string> {
  const path = join(dir, EPOCH_FILE);
  let text: string | null = null;
  try {
    text = (await fs.readFile(path)).toString("utf8").trim();
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  if (text !== null) {
    if (!EPOCH_PATTERN.test(text)) throw corrupt(`${path} does not hold an epoch`, path);
    if (snapshotEpoch !== undefined && snapshotEpoch !== text) {
      throw corrupt(`snapshot.json belongs to another data set (epoch ${snapshotEpoch}, not ${text})`, path);
    }
    return text;
  }
  const epoch = snapshotEpoch !== undefined && EPOCH_PATTERN.test(snapshotEpoch) ? snapshotEpoch : newEpoch();
  const tmp = `${path}.tmp`;
  const handle = await fs.open(tmp, "w");
  try {
    await writeAll(handle, Buffer.from(`${epoch}\n`));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await unlinkIfExists(fs, tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(fs, dir);
  return epoch;
}
