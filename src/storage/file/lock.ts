// A pid lock file so that two processes never append to the same data directory; a dead owner's lock is taken over.

import { readFileSync } from "node:fs";
import { SwitchboardError } from "../../core/errors.js";
import { errnoCode, type FileSystem, unlinkIfExists, writeAll } from "./fs.js";

export const LOCK_FILE = "switchboard.lock";

/**
 * Takes the lock at `path`. "<pid> <start time>" is written to a private file that is then hard-linked into
 * place, so a reader never sees a half-written lock. A lock naming this very process is refused too: it is
 * held by another store instance. On Linux the owner's start time (field 22 of /proc/<pid>/stat) is recorded,
 * so a pid reused by another program after a crash is seen as dead, and so is a zombie (a killed owner whose
 * parent has not reaped it yet): a restart right after SIGKILL succeeds at once. Elsewhere a live pid refuses;
 * the error names the file to remove by hand.
 */
export async function acquireLock(fs: FileSystem, path: string): Promise<void> {
  const pid = process.pid;
  const own = `${path}.${pid}.tmp`;
  const handle = await fs.open(own, "w");
  try {
    const started = procStat(pid)?.startTime;
    await writeAll(handle, Buffer.from(started === undefined ? `${pid}\n` : `${pid} ${started}\n`));
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
          `the data directory is in use by process ${holder.pid} (${path}); remove that file if no such process runs`,
          { details: { lock: path, pid: holder.pid } },
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

interface Holder {
  readonly pid: number;
  /** Start time of the owner in clock ticks since boot (Linux), when the lock recorded it. */
  readonly startTime: string | undefined;
}

async function readHolder(fs: FileSystem, path: string): Promise<Holder | null> {
  try {
    const [pidText = "", startTime] = (await fs.readFile(path)).toString("utf8").trim().split(/\s+/);
    const pid = Number.parseInt(pidText, 10);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, startTime } : null;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
}

/** State and start time of a process from /proc/<pid>/stat; null where there is no such file (gone, or not Linux). */
function procStat(pid: number): { state: string; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ")": fields are counted after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTime = fields[19];
  return state === undefined || startTime === undefined ? null : { state, startTime };
}

function isAlive(holder: Holder): boolean {
  const { pid } = holder;
  if (pid === process.pid) return true;
  const stat = procStat(pid);
  if (stat !== null) {
    // Z: a zombie (dead, not reaped yet); X: dead. A different start time: the pid now names another process.
    if (stat.state === "Z" || stat.state === "X") return false;
    return holder.startTime === undefined || holder.startTime === stat.startTime;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return errnoCode(err) === "EPERM";
  }
}
