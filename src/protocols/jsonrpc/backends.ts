// Plexus backends on registers: `backends/<name>` holds the BackendInfo fields and their source; CRUD and the file merge.

import { randomUUID } from "node:crypto";
import PQueue from "p-queue";
import { z } from "zod";
import { type JsonObject, type Register, type Switchboard, SwitchboardError } from "../../core/index.js";

// Discovery shows these registers as services of type `plexus`, so the naming is defined there.
import { BACKEND_NAME, BACKENDS_PREFIX } from "../../services/discovery.js";

export { BACKEND_NAME, BACKENDS_PREFIX };

export const SOURCES = ["auto", "file", "manual", "env"] as const;
export type BackendSource = (typeof SOURCES)[number];

/** BackendInfo as Plexus clients read it; optional fields are omitted rather than null; times in Unix seconds. */
const backendInfo = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  port: z.number(),
  protocol: z.string(),
  description: z.string().optional(),
  namespace: z.string().optional(),
  version: z.string().optional(),
  metadata: z.string().optional(),
  source: z.enum(SOURCES),
  is_active: z.boolean(),
  registered_at: z.number(),
  last_seen: z.number().optional(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type BackendInfo = z.infer<typeof backendInfo>;

/** The connection fields a registration, an update or a file entry carries. */
export interface BackendFields {
  readonly host: string;
  readonly port: number;
  readonly protocol: string;
  readonly description?: string | undefined;
  readonly namespace?: string | undefined;
}

export type BackendPatch = Partial<BackendFields>;

/** A `[[backend]]` entry of the TOML file. */
export interface FileBackend extends BackendFields {
  readonly name: string;
}

export interface FileMergeResult {
  /** Entries of the file now in effect (added, changed or already equal). */
  readonly applied: number;
  readonly added: string[];
  readonly updated: string[];
  readonly removed: string[];
  /** File entries not applied because a runtime or persisted backend of that name wins. */
  readonly shadowed: string[];
}

export function backendRegister(name: string): string {
  return `${BACKENDS_PREFIX}${name}`;
}

function notFound(name: string): SwitchboardError {
  return new SwitchboardError("BACKEND_NOT_FOUND", `Backend not found: ${name}`, { details: { name } });
}

/** Copies only defined fields: BackendInfo omits what is absent (exactOptionalPropertyTypes keeps us honest). */
function withFields(base: BackendInfo, f: BackendPatch): BackendInfo {
  const next: BackendInfo = { ...base };
  if (f.host !== undefined) next.host = f.host;
  if (f.port !== undefined) next.port = f.port;
  if (f.protocol !== undefined) next.protocol = f.protocol;
  if (f.description !== undefined) next.description = f.description;
  if (f.namespace !== undefined) next.namespace = f.namespace;
  return next;
}

function sameFields(b: BackendInfo, f: BackendFields): boolean {
  return (
    b.host === f.host &&
    b.port === f.port &&
    b.protocol === f.protocol &&
    b.description === f.description &&
    b.namespace === f.namespace
  );
}

/**
 * The backends as Plexus sees them. Every read and write goes to the core; the per-name guard
 * makes each read-modify-write (ping, update, the file merge) atomic against the others here.
 */
export class BackendStore {
  readonly #core: Switchboard;
  /** Backend changes run one at a time: a read-modify-write of one backend never interleaves with another's. */
  readonly #guards = new PQueue({ concurrency: 1 });

  constructor(core: Switchboard) {
    this.#core = core;
  }

  /** The backend a register holds, or null when it is not a well-formed one (e.g. written over REST). */
  static fromRegister(r: Register): BackendInfo | null {
    const parsed = backendInfo.safeParse(r.value);
    return parsed.success ? parsed.data : null;
  }

  get(name: string): BackendInfo | null {
    if (!BACKEND_NAME.test(name)) return null;
    const r = this.#core.get(backendRegister(name));
    return r ? BackendStore.fromRegister(r) : null;
  }

  /** Newest first (by created_at, then name), as the original lists them. */
  list(activeOnly: boolean): BackendInfo[] {
    const out: BackendInfo[] = [];
    for (const view of this.#core.read({ prefixes: [BACKENDS_PREFIX] })) {
      if (!view.found) continue;
      const b = BackendStore.fromRegister(view.register);
      if (b && (!activeOnly || b.is_active)) out.push(b);
    }
    return out.sort((a, b) => b.created_at - a.created_at || a.name.localeCompare(b.name));
  }

  async register(name: string, fields: BackendFields, source: BackendSource): Promise<BackendInfo> {
    return this.#guarded([name], async () => {
      if (this.#core.get(backendRegister(name))) {
        throw new SwitchboardError("BACKEND_EXISTS", `Backend already exists: ${name}`, { details: { name } });
      }
      const backend = this.#fresh(name, fields, source);
      await this.#write([backend]);
      return backend;
    });
  }

  /**
   * Changes the given fields. A runtime update outranks the file, so a file-sourced backend
   * becomes `manual`: later edits of the file no longer overwrite (or remove) it.
   */
  async update(name: string, patch: BackendPatch): Promise<BackendInfo> {
    return this.#guarded([name], async () => {
      const current = this.get(name);
      if (!current) throw notFound(name);
      const next = withFields(current, patch);
      next.updated_at = this.#now();
      if (next.source === "file") next.source = "manual";
      await this.#write([next]);
      return next;
    });
  }

  async delete(name: string): Promise<void> {
    await this.#guarded([name], async () => {
      if (!this.get(name)) throw notFound(name);
      await this.#core.delete([backendRegister(name)]);
    });
  }

  /** Sets last_seen; null when there is no such backend (ping answers success: false then). */
  async ping(name: string): Promise<BackendInfo | null> {
    return this.#guarded([name], async () => {
      const current = this.get(name);
      if (!current) return null;
      const next: BackendInfo = { ...current, last_seen: this.#now() };
      await this.#write([next]);
      return next;
    });
  }

  /**
   * Makes the `file`-sourced backends equal to the file's entries: adds new names, updates
   * changed ones, removes file backends the file no longer lists. A name held by any other
   * source (a runtime registration, or one persisted from an earlier run) is left alone:
   * runtime > persisted > file.
   */
  async mergeFile(entries: readonly FileBackend[]): Promise<FileMergeResult> {
    const wanted = new Map(entries.map((e) => [e.name, e]));
    const fromFile = this.list(false)
      .filter((b) => b.source === "file")
      .map((b) => b.name);
    return this.#guarded([...wanted.keys(), ...fromFile], async () => {
      const result = {
        applied: 0,
        added: [] as string[],
        updated: [] as string[],
        removed: [] as string[],
        shadowed: [] as string[],
      };
      const writes: BackendInfo[] = [];
      for (const entry of wanted.values()) {
        const current = this.get(entry.name);
        const occupied = current === null && this.#core.get(backendRegister(entry.name)) !== undefined;
        if (occupied || (current && current.source !== "file")) {
          result.shadowed.push(entry.name);
          continue;
        }
        result.applied++;
        if (!current) {
          writes.push(this.#fresh(entry.name, entry, "file"));
          result.added.push(entry.name);
        } else if (!sameFields(current, entry)) {
          // The file states every field: an omitted description in the file clears it.
          const { description: _d, namespace: _n, ...rest } = current;
          writes.push({ ...withFields(rest, entry), updated_at: this.#now() });
          result.updated.push(entry.name);
        }
      }
      for (const name of fromFile) {
        if (!wanted.has(name) && this.get(name)?.source === "file") result.removed.push(name);
      }
      await this.#write(writes);
      const batch = this.#core.limits.maxBatch;
      for (let i = 0; i < result.removed.length; i += batch) {
        await this.#core.delete(result.removed.slice(i, i + batch).map(backendRegister));
      }
      return result;
    });
  }

  #fresh(name: string, f: BackendFields, source: BackendSource): BackendInfo {
    const now = this.#now();
    return withFields(
      {
        id: randomUUID(),
        name,
        host: f.host,
        port: f.port,
        protocol: f.protocol,
        source,
        is_active: true,
        registered_at: now,
        created_at: now,
        updated_at: now,
      },
      f,
    );
  }

  async #write(backends: readonly BackendInfo[]): Promise<void> {
    const batch = this.#core.limits.maxBatch;
    for (let i = 0; i < backends.length; i += batch) {
      await this.#core.set(
        backends.slice(i, i + batch).map((b) => ({ name: backendRegister(b.name), value: b as unknown as JsonObject })),
      );
    }
  }

  #now(): number {
    return Math.floor(this.#core.clock.now() / 1000);
  }

  async #guarded<T>(_names: readonly string[], fn: () => Promise<T>): Promise<T> {
    return (await this.#guards.add(fn)) as T;
  }
}
