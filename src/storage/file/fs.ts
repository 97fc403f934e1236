// The slice of node:fs/promises the file store uses, injectable so that tests count fsyncs and inject failures.

import { createReadStream } from "node:fs";
import * as nodeFs from "node:fs/promises";

export interface FileHandleLike {
  /** Writes at the current position (the end, for a handle opened with "a"). */
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(path: string, flags: string): Promise<FileHandleLike>;
  /** Small files only (the lock): anything that grows with the state is read with readStream. */
  readFile(path: string): Promise<Buffer>;
  /** The bytes of a file in chunks; `end` is inclusive, as in node:fs. Rejects (while iterating) with ENOENT. */
  readStream(path: string, range?: { start?: number; end?: number }): AsyncIterable<Buffer>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
}

export const nodeFileSystem: FileSystem = {
  open: (path, flags) => nodeFs.open(path, flags),
  readFile: (path) => nodeFs.readFile(path),
  readStream: (path, range) => createReadStream(path, { highWaterMark: 1024 * 1024, ...range }),
  readdir: (path) => nodeFs.readdir(path),
  rename: (from, to) => nodeFs.rename(from, to),
  link: (existing, newPath) => nodeFs.link(existing, newPath),
  unlink: (path) => nodeFs.unlink(path),
  mkdir: (path, options) => nodeFs.mkdir(path, options),
};

export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}

export async function writeAll(handle: FileHandleLike, buffer: Uint8Array): Promise<void> {
  let written = 0;
  while (written < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, written, buffer.length - written);
    written += bytesWritten;
  }
}

/** Makes renames, creations and deletions in `dir` durable. */
export async function syncDir(fs: FileSystem, dir: string): Promise<void> {
  let handle: FileHandleLike;
  try {
    handle = await fs.open(dir, "r");
  } catch (err) {
    // Windows cannot open a directory; it has no directory fsync to do either.
    if (errnoCode(err) === "EISDIR" || errnoCode(err) === "EPERM") return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    // Some filesystems (and Windows) reject fsync on a directory: nothing more can be done there.
    if (errnoCode(err) !== "EINVAL" && errnoCode(err) !== "EPERM") throw err;
  } finally {
    await handle.close();
  }
}

export async function unlinkIfExists(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}
