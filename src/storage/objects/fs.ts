// The filesystem ObjectStore: one file per key under a root directory (uploaded registry assets by default).

import { mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { ObjectStore } from "../../core/index.js";

/**
 * Keys are relative paths with `/` separators. A key that would resolve outside the root is
 * refused here as well as by the zip reader: the store does not trust its callers' paths.
 */
export function createFsObjectStore(root: string): ObjectStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const p = resolve(base, ...key.split("/"));
    if (p !== base && !p.startsWith(base + sep)) throw new Error(`object key escapes the store: ${key}`);
    return p;
  };
  return {
    name: "fs",
    async put(key, data) {
      const p = pathOf(key);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, data);
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
    async delete(key) {
      const p = pathOf(key);
      await rm(p, { force: true, recursive: true });
      // Folders the object leaves empty go too, up to the root, so nothing of it remains.
      for (let dir = dirname(p); dir.startsWith(base + sep); dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    },
    url(key) {
      const u = pathToFileURL(join(base, ...key.split("/"))).href;
      return key.endsWith("/") ? `${u}/` : u;
    },
  };
}
