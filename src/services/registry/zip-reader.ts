// Reads an uploaded zip entry by entry with yauzl, refusing unsafe paths, symlinks, encryption, too many entries, bombs.

import yauzl, { type Entry, type ZipFile } from "yauzl";
import { SwitchboardError } from "../../core/index.js";

export interface ZipLimits {
  /** Most entries (files and folders) an archive may list. */
  readonly maxEntries: number;
  /** Most bytes all entries may expand to, counted as they are read (not trusted from headers). */
  readonly maxUncompressedBytes: number;
}

/** An entry over 1 MiB that expands more than this many times its compressed size is a bomb. */
export const MAX_RATIO = 100;
const RATIO_FLOOR = 1024 * 1024;

/** A zip entry that is a file, its safe relative path and its bytes. */
export type EntryHandler = (path: string, data: Buffer) => Promise<void>;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function unsafe(entry: string, reason: string): SwitchboardError {
  return new SwitchboardError("ZIP_UNSAFE_ENTRY", `zip entry ${JSON.stringify(entry)} ${reason}`, {
    details: { entry, reason },
  });
}

/** Refuses names that could land outside the asset folder on any platform. */
export function checkEntryName(name: string): void {
  if (name.length === 0 || name.length > 1024) throw unsafe(name, "has an empty or overlong name");
  if (name.includes("\0")) throw unsafe(name, "contains a NUL character");
  if (name.startsWith("/") || name.startsWith("\\")) throw unsafe(name, "is an absolute path");
  if (/^[A-Za-z]:/.test(name)) throw unsafe(name, "starts with a drive letter");
  if (name.split(/[\\/]/).some((seg) => seg === "..")) throw unsafe(name, "climbs out of its folder (..)");
}

/** yauzl's own refusals, mapped to codes. */
function fromYauzl(err: Error): SwitchboardError {
  const m = err.message;
  const name = /: (.*)$/.exec(m)?.[1] ?? "";
  if (/invalid relative path|absolute path|invalid characters in fileName/.test(m)) return unsafe(name, m);
  return new SwitchboardError("ZIP_INVALID", `not a readable zip archive: ${m}`);
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: true, strictFileNames: true, validateEntrySizes: true, decodeStrings: true },
      (err, zip) => (err ? reject(fromYauzl(err)) : resolve(zip)),
    );
  });
}

/**
 * Calls `onEntry` for every file of the archive, in archive order, one at a time. Every check
 * runs before an entry's bytes are handed on, and sizes are counted while decompressing, so a
 * header that lies about sizes gains nothing. Throws a coded error at the first refusal.
 */
export async function readZip(path: string, limits: ZipLimits, onEntry: EntryHandler): Promise<number> {
  const zip = await openZip(path);
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new SwitchboardError(
        "ZIP_TOO_LARGE",
        `the archive lists ${zip.entryCount} entries (at most ${limits.maxEntries})`,
        {
          details: { entries: zip.entryCount, limit: limits.maxEntries },
        },
      );
    }
    let total = 0;
    let files = 0;
    const entries = entryIterator(zip);
    for (let entry = await entries.next(); entry !== null; entry = await entries.next()) {
      const name = entry.fileName;
      checkEntryName(name);
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      if (mode === S_IFLNK) throw unsafe(name, "is a symbolic link");
      if (entry.isEncrypted()) throw unsafe(name, "is encrypted");
      if (name.endsWith("/")) continue;
      checkRatio(name, entry.uncompressedSize, entry.compressedSize);
      if (total + entry.uncompressedSize > limits.maxUncompressedBytes) throw tooLarge(limits);
      const data = await readEntry(zip, entry, limits.maxUncompressedBytes - total, limits);
      total += data.length;
      files++;
      await onEntry(name, data);
    }
    return files;
  } finally {
    zip.close();
  }
}

function checkRatio(name: string, uncompressed: number, compressed: number): void {
  if (uncompressed > RATIO_FLOOR && uncompressed > MAX_RATIO * Math.max(1, compressed)) {
    throw new SwitchboardError("ZIP_BOMB", `zip entry ${JSON.stringify(name)} expands more than ${MAX_RATIO}x`, {
      details: { entry: name, compressed, uncompressed },
    });
  }
}

function tooLarge(limits: ZipLimits): SwitchboardError {
  return new SwitchboardError(
    "ZIP_TOO_LARGE",
    `the archive expands to more than ${limits.maxUncompressedBytes} bytes`,
    { details: { limit: limits.maxUncompressedBytes } },
  );
}

/** Pulls entries one at a time (lazyEntries), resolving null at the end of the central directory. */
function entryIterator(zip: ZipFile): { next(): Promise<Entry | null> } {
  let pending: { resolve: (e: Entry | null) => void; reject: (err: Error) => void } | null = null;
  let failure: Error | null = null;
  let ended = false;
  zip.on("entry", (e: Entry) => pending?.resolve(e));
  zip.on("end", () => {
    ended = true;
    pending?.resolve(null);
  });
  zip.on("error", (err: Error) => {
    failure = fromYauzl(err);
    pending?.reject(failure);
  });
  return {
    next() {
      if (failure) return Promise.reject(failure);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        zip.readEntry();
      });
    },
  };
}

/** Decompresses one entry, stopping as soon as it passes the remaining budget. */
function readEntry(zip: ZipFile, entry: Entry, budget: number, limits: ZipLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(fromYauzl(err));
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > budget) {
          stream.destroy();
          reject(tooLarge(limits));
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (e: Error) => reject(fromYauzl(e)));
      stream.on("end", () => {
        try {
          checkRatio(entry.fileName, size, entry.compressedSize);
          resolve(Buffer.concat(chunks, size));
        } catch (e) {
          reject(e);
        }
      });
    });
  });
}
