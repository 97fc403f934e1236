// A pid lock file so that two processes never append to the same data directory; a dead owner's lock is taken over.

import { SwitchboardError } from "../../core/errors.js";
import { errnoCode, type FileSystem, unlinkIfExists, writeAll } from "./fs.js";

export const LOCK_FILE = "switchboard.lock";

/**
 * Takes the lock at `path`. The pid is written to a private file that is then hard-linked into place,
 * so a reader never sees a half-written lock. A lock naming this very process is refused too: it is
 * held by another store instance. A pid reused by an unrelated process after a crash also refuses;
 * the error names the file to remove by hand.
 */
export async function acquireLock(fs: FileSystem, path: string): Promise<void> {
  const pid = process.pid;
  const own = `${path}.${pid}.tmp`;
  const handle = await fs.open(own, "w");
  try {
    await writeAll(handle, Buffer.from(`${pid}\n`));
  } finally {
    await handle.close();
  }
  try {
    // Two attempts: the second follows the removal of a dead owner's lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await fs.link(own, path);
        return;
      } catch (err) {
        if (errnoCode(err) !== "EEXIST") throw err;
      }
      const holder = await readHolder(fs, path);
      if (holder !== null && isAlive(holder)) {
        throw new SwitchboardError(
          "STORAGE_UNAVAILABLE",
          `the data directory is in use by process ${holder} (${path}); remove that file if no such process runs`,
          { details: { lock: path, pid: holder } },
        );
      }
      await unlinkIfExists(fs, path);
    }
    throw new SwitchboardError("STORAGE_UNAVAILABLE", `another process took the lock ${path} at the same time`, {
      details: { lock: path },
    });
  } finally {
    await unlinkIfExists(fs, own);
  }
}

export async function releaseLock(fs: FileSystem, path: string): Promise<void> {
  await unlinkIfExists(fs, path);
}

async function readHolder(fs: FileSystem, path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await fs.readFile(path)).toString("utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errnoCode(err) === "EPERM";
  }
}
