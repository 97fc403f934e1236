// The TOML backends file: parsed with smol-toml, merged into the backends at start, on `reload`, and whenever it changes on disk.

import { type FSWatcher, unwatchFile, watch, watchFile } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, resolve } from "node:path";
import type { Logger } from "pino";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { SwitchboardError } from "../../core/index.js";
import { BACKEND_NAME, type BackendStore, type FileBackend, type FileMergeResult } from "./backends.js";

/** A file larger than this is refused: it is a list of host:port lines, not a data set. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Editors write a file in several steps (truncate, write, rename): settle before reading. */
const SETTLE_MS = 40;
/** Poll period when the file's directory does not exist yet (fs.watch needs an existing directory). */
const POLL_MS = 500;

const entrySchema = z.object({
  name: z.string().regex(BACKEND_NAME, "1-200 characters of A-Z a-z 0-9 . _ - :"),
  host: z.string().min(1).max(255),
  port: z.number().int().min(0).max(65535),
  protocol: z.string().min(1).max(32).default("ws"),
  description: z.string().max(1024).optional(),
  namespace: z.string().max(256).optional(),
});
const fileSchema = z.object({ backend: z.array(entrySchema).default([]) });

/** `~/…` is the user's home, as the original resolves its default path. */
export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return resolve(path);
}

function invalid(path: string, message: string, details?: unknown): SwitchboardError {
  return new SwitchboardError("BACKENDS_FILE_INVALID", `backends file ${path}: ${message}`, {
    details: { path, ...(details === undefined ? {} : { issues: details }) },
  });
}

/** Reads and checks the file. A missing file defines no backends; anything unreadable is BACKENDS_FILE_INVALID. */
export async function readBackendsFile(path: string): Promise<FileBackend[]> {
  let text: string;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw invalid(path, "not a regular file");
    if (s.size > MAX_FILE_BYTES) throw invalid(path, `larger than ${MAX_FILE_BYTES} bytes`);
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    if (err instanceof SwitchboardError) throw err;
    throw invalid(path, (err as Error).message);
  }
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (err) {
    throw invalid(path, (err as Error).message.split("\n")[0] ?? "not TOML");
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw invalid(path, issues.map((i) => `${i.path}: ${i.message}`).join("; "), issues);
  }
  const seen = new Set<string>();
  const out: FileBackend[] = [];
  for (const e of parsed.data.backend) {
    if (seen.has(e.name)) throw invalid(path, `backend ${e.name} is listed twice`);
    seen.add(e.name);
    out.push({
      name: e.name,
      host: e.host,
      port: e.port,
      protocol: e.protocol,
      ...(e.description === undefined ? {} : { description: e.description }),
      ...(e.namespace === undefined ? {} : { namespace: e.namespace }),
    });
  }
  return out;
}

/**
 * The file and its watch. Merges are serialised (a `reload` call and a change on disk never
 * interleave). A broken file changes nothing: the backends it defined last stay as they are.
 */
export class BackendsFile {
  readonly path: string | null;
  readonly #store: BackendStore;
  readonly #log: Logger;
  #chain: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #polling = false;
  #settle: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(path: string | null, store: BackendStore, log: Logger) {
    this.path = path;
    this.#store = store;
    this.#log = log;
  }

  /** Reads the file into the backends; rejects with BACKENDS_FILE_INVALID, leaving them unchanged. */
  reload(): Promise<FileMergeResult> {
    const path = this.path;
    const run = async (): Promise<FileMergeResult> => {
      if (path === null) return { applied: 0, added: [], updated: [], removed: [], shadowed: [] };
      const result = await this.#store.mergeFile(await readBackendsFile(path));
      if (result.added.length + result.updated.length + result.removed.length > 0 || result.shadowed.length > 0) {
        this.#log.info({ path, ...result }, "backends file applied");
      }
      return result;
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Loads once (a broken file is logged, not fatal) and starts watching. */
  async start(): Promise<void> {
    if (this.path === null) return;
    await this.#reloadLogged("start");
    this.#watch();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#settle);
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#polling && this.path) unwatchFile(this.path);
    this.#polling = false;
    await this.#chain;
  }

  async #reloadLogged(reason: string): Promise<void> {
    try {
      await this.reload();
    } catch (err) {
      this.#log.error({ err, path: this.path, reason }, "backends file not applied; keeping the last good backends");
    }
  }

  #changed = (): void => {
    if (this.#stopped) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.#reloadLogged("changed on disk"), SETTLE_MS);
  };

  /**
   * Watches the directory rather than the file, so a save by rename (most editors) or a
   * delete-and-recreate is seen. Without the directory, polls the path until it appears.
   */
  #watch(): void {
    const path = this.path;
    if (path === null || this.#stopped) return;
    const name = basename(path);
    try {
      const w = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.#changed();
      });
      w.on("error", (err) => {
        this.#log.warn({ err, path }, "backends file watch failed; polling instead");
        w.close();
        this.#watcher = undefined;
        this.#poll();
      });
      this.#watcher = w;
    } catch (err) {
      this.#log.info({ path, err: (err as Error).message }, "backends file directory not watchable; polling");
      this.#poll();
    }
  }

  #poll(): void {
    const path = this.path;
    if (path === null || this.#polling || this.#stopped) return;
    this.#polling = true;
    watchFile(path, { interval: POLL_MS, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
      this.#changed();
      // Once the directory exists, switch to the event-driven watch.
      if (cur.ino !== 0 && this.#watcher === undefined) {
        unwatchFile(path);
        this.#polling = false;
        this.#watch();
      }
    });
  }
}
