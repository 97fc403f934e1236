// The in-memory query index of registry records: documents by id, ids by type and by tag, kept current from core events.

import type { Json, JsonObject, Register, Switchboard, SwitchboardEvent } from "../../core/index.js";
import { REGISTRY_PREFIX, registryIdOf, toRegistryCoreData } from "./record.js";

/** One indexed record: its RegistryCoreData document and the register revision it came from. */
export interface IndexedRecord {
  readonly id: string;
  readonly doc: JsonObject;
  readonly modRevision: number;
  readonly type: string | null;
  readonly tags: readonly string[];
}

/**
 * A set of ids with its id-ordered array and the JSON of its documents cached until the set
 * changes (a record's change removes and re-adds it, so content changes invalidate too).
 */
class Bucket {
  readonly ids = new Set<string>();
  #sorted: string[] | null = null;
  #json: string | null = null;

  add(id: string): void {
    this.ids.add(id);
    this.#sorted = null;
    this.#json = null;
  }
  remove(id: string): void {
    this.ids.delete(id);
    this.#sorted = null;
    this.#json = null;
  }
  sorted(): readonly string[] {
    this.#sorted ??= [...this.ids].sort(compareIds);
    return this.#sorted;
  }
  json(docs: () => readonly JsonObject[]): string {
    this.#json ??= JSON.stringify(docs());
    return this.#json;
  }
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function typeOf(doc: JsonObject): string | null {
  const sd = doc.registry_search_data;
  if (typeof sd !== "object" || sd === null || Array.isArray(sd)) return null;
  return typeof sd.registry_type === "string" ? sd.registry_type : null;
}

function tagsOf(doc: JsonObject): string[] {
  const sd = doc.registry_search_data;
  if (typeof sd !== "object" || sd === null || Array.isArray(sd)) return [];
  const t: Json | undefined = sd.registry_search_tags;
  return Array.isArray(t) ? [...new Set(t.filter((x): x is string => typeof x === "string"))] : [];
}

/**
 * Queries must not scan every register per request: this index holds each record once as its
 * document (built when the record changes, not when it is read) and buckets of ids per type and
 * per tag. It subscribes to the core in the same tick as it reads the current records, so no
 * change falls between the two.
 */
export class RegistryIndex {
  readonly #records = new Map<string, IndexedRecord>();
  readonly #byType = new Map<string, Bucket>();
  readonly #byTag = new Map<string, Bucket>();
  readonly #all = new Bucket();
  #docs: JsonObject[] | null = null;
  readonly #unsubscribe: () => void;

  constructor(core: Switchboard) {
    for (const view of core.read({ prefixes: [REGISTRY_PREFIX] })) if (view.found) this.#put(view.register);
    this.#unsubscribe = core.subscribe((e) => this.#apply(e));
  }

  close(): void {
    this.#unsubscribe();
  }

  get size(): number {
    return this.#records.size;
  }

  get(id: string): IndexedRecord | undefined {
    return this.#records.get(id);
  }

  /** Every record, in id order. */
  all(): IndexedRecord[] {
    return this.#resolve(this.#all.sorted());
  }

  /** Every document, in id order; the array is shared until the next change (callers must not mutate it). */
  docs(): readonly JsonObject[] {
    this.#docs ??= this.all().map((r) => r.doc);
    return this.#docs;
  }

  byType(type: string): IndexedRecord[] {
    return this.#resolve(this.#byType.get(type)?.sorted() ?? []);
  }

  /**
   * The JSON array of the documents of a type, or of one tag: a wide answer is serialised once
   * per change of its bucket instead of once per request.
   */
  typeJson(type: string): string {
    const b = this.#byType.get(type);
    return b ? b.json(() => this.#resolve(b.sorted()).map((r) => r.doc)) : "[]";
  }

  tagJson(tag: string): string {
    const b = this.#byTag.get(tag);
    return b ? b.json(() => this.#resolve(b.sorted()).map((r) => r.doc)) : "[]";
  }

  /** Records carrying any of the tags, in id order. */
  byTags(tags: readonly string[]): IndexedRecord[] {
    const buckets = [...new Set(tags)].flatMap((t) => this.#byTag.get(t) ?? []);
    if (buckets.length === 1) return this.#resolve(buckets[0]!.sorted());
    const ids = new Set<string>();
    for (const b of buckets) for (const id of b.ids) ids.add(id);
    return this.#resolve([...ids].sort(compareIds));
  }

  #resolve(ids: readonly string[]): IndexedRecord[] {
    const out: IndexedRecord[] = [];
    for (const id of ids) {
      const r = this.#records.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  #apply(e: SwitchboardEvent): void {
    if (!e.name.startsWith(REGISTRY_PREFIX)) return;
    if (e.type === "set") this.#put(e.register);
    else if (e.type === "delete" || e.type === "expire") {
      const id = registryIdOf(e.name);
      if (id !== null) this.#remove(id);
    }
  }

  #put(register: Register): void {
    const id = registryIdOf(register.name);
    if (id === null) return;
    this.#remove(id);
    const doc = toRegistryCoreData(id, register.value);
    const record: IndexedRecord = { id, doc, modRevision: register.modRevision, type: typeOf(doc), tags: tagsOf(doc) };
    this.#records.set(id, record);
    this.#all.add(id);
    if (record.type !== null) bucket(this.#byType, record.type).add(id);
    for (const t of record.tags) bucket(this.#byTag, t).add(id);
    this.#docs = null;
  }

  #remove(id: string): void {
    const old = this.#records.get(id);
    if (!old) return;
    this.#records.delete(id);
    this.#all.remove(id);
    if (old.type !== null) unbucket(this.#byType, old.type, id);
    for (const t of old.tags) unbucket(this.#byTag, t, id);
    this.#docs = null;
  }
}

function bucket(map: Map<string, Bucket>, key: string): Bucket {
  let b = map.get(key);
  if (!b) {
    b = new Bucket();
    map.set(key, b);
  }
  return b;
}

function unbucket(map: Map<string, Bucket>, key: string, id: string): void {
  const b = map.get(key);
  if (!b) return;
  b.remove(id);
  if (b.ids.size === 0) map.delete(key);
}
