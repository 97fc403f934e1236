// The data dir's `epoch` file: the history id made when the directory was first initialised.

import { join } from "node:path";
import { EPOCH_PATTERN, newEpoch } from "../epoch.js";
import { errnoCode, type FileSystem, syncDir, unlinkIfExists, writeAll } from "./fs.js";
import { corrupt } from "./log-format.js";

export const EPOCH_FILE = "epoch";

/**
 * The directory's epoch. Made on first use and written before any commit can be acknowledged
 * (temp file, fsync, rename, directory fsync), so an acknowledged write never belongs to an epoch
 * that a crash could replace. A directory without the file — new, from before epochs existed, or
 * restored from a backup with the file deleted on purpose — gets a new one: its clients resync.
 * (snapshot.json repeats the epoch for whoever reads it; loading does not use that copy.)
 */
export async function loadEpoch(fs: FileSystem, dir: string): Promise<string> {
  const path = join(dir, EPOCH_FILE);
  let text: string | null = null;
  try {
    text = (await fs.readFile(path)).toString("utf8").trim();
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  if (text !== null) {
    if (!EPOCH_PATTERN.test(text)) throw corrupt(`${path} does not hold an epoch`, path);
    return text;
  }
  const epoch = newEpoch();
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
