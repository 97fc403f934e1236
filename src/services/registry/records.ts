// The registry-of-registries service: create, update, delete and every query over records `registries/<id>`.

import { type JsonObject, KeyedMutex, type Switchboard, SwitchboardError } from "../../core/index.js";
import { type FilterQuery, runFilter } from "./filter.js";
import { registryName, SEARCH_FIELDS, toRegistryCoreData } from "./record.js";
import { type IndexedRecord, RegistryIndex } from "./registry-index.js";
import { parseSpec, type RegistrySpec, specToJson } from "./schema.js";
import { compileSearch } from "./search.js";

/** An answer of a query: the core revision it reflects and the records in the seed's shape. */
export interface RegistryAnswer {
  readonly index: number;
  readonly registries: JsonObject[];
}

export interface RegistryWrite {
  readonly index: number;
  readonly registry: JsonObject;
}

/** String fields a partial match may name; dict fields take `<field>.<key>`. */
export const PARTIAL_FIELDS = [
  "registry_id",
  "registry_url",
  "registry_api_index",
  "registry_documentation_s3_url",
  "registry_client_sdk_s3_url",
  "registry_asset_id",
  "health_check_api",
  "registry_search_data.registry_type",
  "registry_search_data.registry_sub_type",
  "registry_search_data.registry_search_tags",
  "registry_search_data.registry_search_description",
] as const;
const PARTIAL_DICTS = ["registry_acl_config_info.", "registry_search_data.registry_metadata."];

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class RegistryRecords {
  readonly #core: Switchboard;
  readonly #index: RegistryIndex;
  /** Create and update read, check and write one record: serialised per registry_id. */
  readonly #locks = new KeyedMutex();

  constructor(core: Switchboard) {
    this.#core = core;
    this.#index = new RegistryIndex(core);
  }

  get index(): RegistryIndex {
    return this.#index;
  }

  /** Stores a new record; REGISTRY_EXISTS when the id is taken. */
  async create(raw: unknown): Promise<RegistryWrite> {
    const spec = parseSpec(raw);
    return this.#exclusive(spec.registry_id, async () => {
      if (this.#core.get(registryName(spec.registry_id))) {
        throw new SwitchboardError("REGISTRY_EXISTS", `registry ${spec.registry_id} already exists`, {
          details: { registry_id: spec.registry_id },
        });
      }
      return this.#write(spec.registry_id, specToJson(spec));
    });
  }

  /**
   * Changes only the given fields; registry_search_data is merged field by field (a given
   * field replaces the stored one, null clears it). REGISTRY_NOT_FOUND when the id is unknown.
   */
  async update(raw: unknown): Promise<RegistryWrite> {
    const spec = parseSpec(raw);
    return this.#exclusive(spec.registry_id, async () => {
      const current = this.#core.get(registryName(spec.registry_id));
      if (!current) throw notFound(spec.registry_id);
      return this.#write(spec.registry_id, mergeSpec(current.value, spec));
    });
  }

  async delete(registryId: string): Promise<{ index: number; registry_id: string }> {
    const name = registryName(registryId);
    if (!this.#core.get(name)) throw notFound(registryId);
    const deleted = await this.#core.delete([name]);
    if (deleted.length === 0) throw notFound(registryId);
    return { index: this.#core.revision, registry_id: registryId };
  }

  /** The record, or REGISTRY_NOT_FOUND. */
  byId(registryId: string): RegistryWrite {
    const r = this.#index.get(registryId);
    if (!r) throw notFound(registryId);
    return { index: this.#core.revision, registry: r.doc };
  }

  find(registryId: string): JsonObject | null {
    return this.#index.get(registryId)?.doc ?? null;
  }

  byType(type: string): RegistryAnswer {
    return this.#answer(this.#index.byType(type));
  }

  byTags(tags: readonly string[]): RegistryAnswer {
    return this.#answer(this.#index.byTags(tags));
  }

  /** byType as the JSON text of the answer (the records' part cached per type). */
  byTypeJson(type: string): string {
    return `{"index":${this.#core.revision},"registries":${this.#index.typeJson(type)}}`;
  }

  /** byTags as JSON text; the common one-tag case comes from the tag's cached JSON. */
  byTagsJson(tags: readonly string[]): string {
    const distinct = [...new Set(tags)];
    if (distinct.length === 1) {
      return `{"index":${this.#core.revision},"registries":${this.#index.tagJson(distinct[0]!)}}`;
    }
    return JSON.stringify(this.byTags(distinct));
  }

  /** Records whose registry_url contains the fragment, ignoring case. */
  byUrl(fragment: string): RegistryAnswer {
    return this.partial("registry_url", fragment);
  }

  /** Records whose field contains the fragment, ignoring case (the fragment is text, not a pattern). */
  partial(field: string, fragment: string): RegistryAnswer {
    const path = partialPath(field);
    const needle = fragment.toLowerCase();
    const hits = this.#index.all().filter((r) => {
      const v = valueAt(r.doc, path);
      const values = Array.isArray(v) ? v : [v];
      return values.some((x) => typeof x === "string" && x.toLowerCase().includes(needle));
    });
    return this.#answer(hits);
  }

  /**
   * A Mongo-style filter evaluated by mingo (see filter.ts). When the filter pins registry_id or
   * registry_search_data.registry_type to one string at its top level, only the matching index
   * entries are evaluated instead of every record.
   */
  query(q: FilterQuery, visible?: (doc: JsonObject) => boolean): RegistryAnswer {
    const candidates = this.#candidates(q.filter);
    // Records the caller may not read are left out before skip and limit count.
    return {
      index: this.#core.revision,
      registries: runFilter(visible ? candidates.filter(visible) : candidates, q),
    };
  }

  #candidates(filter: unknown): readonly JsonObject[] {
    if (!isObject(filter)) return this.#index.docs();
    const pinned = (key: string): string | null => {
      const v = filter[key];
      if (typeof v === "string") return v;
      if (isObject(v) && Object.keys(v).length === 1 && typeof v.$eq === "string") return v.$eq;
      return null;
    };
    const id = pinned("registry_id");
    if (id !== null) {
      const r = this.#index.get(id);
      return r ? [r.doc] : [];
    }
    const type = pinned("registry_search_data.registry_type");
    if (type !== null) return this.#index.byType(type).map((r) => r.doc);
    return this.#index.docs();
  }

  /** The search DSL (see search.ts), at most `limit` records in id order. */
  search(q: string, limit: number, visible?: (doc: JsonObject) => boolean): RegistryAnswer {
    const compiled = compileSearch(q);
    const out: JsonObject[] = [];
    for (const doc of this.#index.docs()) {
      if (out.length >= limit) break;
      if (compiled.matches(doc) && (!visible || visible(doc))) out.push(doc);
    }
    return { index: this.#core.revision, registries: out };
  }

  #answer(records: readonly IndexedRecord[]): RegistryAnswer {
    return { index: this.#core.revision, registries: records.map((r) => r.doc) };
  }

  async #write(registryId: string, value: JsonObject): Promise<RegistryWrite> {
    const [result] = await this.#core.set([{ name: registryName(registryId), value }]);
    return { index: result!.register.modRevision, registry: toRegistryCoreData(registryId, result!.register.value) };
  }

  async #exclusive<T>(registryId: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.#locks.lockAll([registryId]);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

function notFound(registryId: string): SwitchboardError {
  return new SwitchboardError("REGISTRY_NOT_FOUND", `registry ${registryId} does not exist`, {
    details: { registry_id: registryId },
  });
}

/** The stored value with the spec's given fields laid over it; the search block merged per field. */
export function mergeSpec(stored: unknown, spec: RegistrySpec): JsonObject {
  const base: JsonObject = isObject(stored) ? { ...stored } : {};
  const patch = specToJson(spec);
  for (const [k, v] of Object.entries(patch)) {
    if (k !== "registry_search_data") base[k] = v;
  }
  if ("registry_search_data" in patch) {
    const given = patch.registry_search_data;
    if (given === null) base.registry_search_data = null;
    else if (isObject(given)) {
      const old = isObject(base.registry_search_data) ? base.registry_search_data : {};
      const merged: JsonObject = { ...old };
      for (const f of SEARCH_FIELDS) if (f in given) merged[f] = given[f]!;
      merged.registry_id = spec.registry_id;
      base.registry_search_data = merged;
    }
  }
  return base;
}

function partialPath(field: string): string[] {
  if ((PARTIAL_FIELDS as readonly string[]).includes(field)) return field.split(".");
  for (const d of PARTIAL_DICTS) {
    const key = field.slice(d.length);
    if (field.startsWith(d) && key.length > 0 && key.length <= 256) {
      return [...d.slice(0, -1).split("."), key];
    }
  }
  throw new SwitchboardError("INVALID_QUERY", `field ${field} cannot be matched partially`, {
    details: { field, allowed: [...PARTIAL_FIELDS, ...PARTIAL_DICTS.map((d) => `${d}<key>`)] },
  });
}

function valueAt(doc: JsonObject, path: readonly string[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (!isObject(v) || !Object.hasOwn(v, p)) return undefined;
    v = v[p];
  }
  return v;
}
