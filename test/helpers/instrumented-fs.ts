// The real filesystem wrapped for file-store tests: records calls, injects failures and delays, "crashes"; manual timers.

import type { TimerHandle } from "../../src/core/ports.js";
import { type FileHandleLike, type FileSystem, nodeFileSystem } from "../../src/storage/file/fs.js";

export type Op =
  | "open"
  | "readFile"
  | "readStream"
  | "readdir"
  | "rename"
  | "link"
  | "unlink"
  | "mkdir"
  | "write"
  | "sync"
  | "truncate"
  | "close";
export interface Call {
  readonly op: Op;
  readonly path: string;
}

/** Wraps the real filesystem: records every call, lets a hook fail or delay it, and can "crash" (close all fds). */
export function instrument(hook: (call: Call) => void | Promise<void> = () => undefined) {
  const calls: Call[] = [];
  const open = new Set<FileHandleLike>();
  async function run<T>(op: Op, path: string, fn: () => Promise<T>): Promise<T> {
    const call = { op, path };
    calls.push(call);
    await hook(call);
    return fn();
  }
  const wrap = (h: FileHandleLike, path: string): FileHandleLike => ({
    write: (b, o, l) => run("write", path, () => h.write(b, o, l)),
    sync: () => run("sync", path, () => h.sync()),
    truncate: (n) => run("truncate", path, () => h.truncate(n)),
    close: () =>
      run("close", path, async () => {
        open.delete(h);
        await h.close();
      }),
  });
  const fs: FileSystem = {
    open: (path, flags) =>
      run("open", path, async () => {
        const h = await nodeFileSystem.open(path, flags);
        open.add(h);
        return wrap(h, path);
      }),
    readFile: (path) => run("readFile", path, () => nodeFileSystem.readFile(path)),
    readStream: (path, range) => ({
      async *[Symbol.asyncIterator]() {
        const call = { op: "readStream" as const, path };
        calls.push(call);
        await hook(call);
        yield* nodeFileSystem.readStream(path, range);
      },
    }),
    readdir: (path) => run("readdir", path, () => nodeFileSystem.readdir(path)),
    rename: (from, to) => run("rename", to, () => nodeFileSystem.rename(from, to)),
    link: (existing, to) => run("link", to, () => nodeFileSystem.link(existing, to)),
    unlink: (path) => run("unlink", path, () => nodeFileSystem.unlink(path)),
    mkdir: (path, options) => run("mkdir", path, () => nodeFileSystem.mkdir(path, options)),
  };
  return {
    fs,
    calls,
    logCalls: (op: Op) => calls.filter((c) => c.op === op && c.path.endsWith(".jsonl")).length,
    /** What a dying process leaves: every descriptor closed by the kernel, nothing else done. */
    crash: async () => {
      for (const h of open) await h.close().catch(() => undefined);
      open.clear();
    },
  };
}

export function fsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function fakeClock() {
  const timers: Array<{ fn: () => void; ms: number; live: boolean }> = [];
  return {
    timers,
    pending: () => timers.filter((t) => t.live),
    clock: {
      setTimeout(fn: () => void, ms: number): TimerHandle {
        const t = { fn, ms, live: true };
        timers.push(t);
        return t;
      },
      clearTimeout(handle: TimerHandle) {
        (handle as { live: boolean }).live = false;
      },
    },
    /** Runs the due timers and awaits what they return (the store's flush). */
    async fire() {
      const due = timers.filter((t) => t.live);
      for (const t of due) t.live = false;
      await Promise.all(due.map((t) => (t.fn as () => unknown)()));
    },
  };
}
