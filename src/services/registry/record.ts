// The registry-of-registries record: RegistryCoreData with its embedded RegistrySearchData, as registers `registries/<id>`.

import type { Json, JsonObject } from "../../core/index.js";

export const REGISTRY_PREFIX = "registries/";

/** The registry_id a register name holds, or null when the name is not a registry record. */
export function registryIdOf(name: string): string | null {
  return name.startsWith(REGISTRY_PREFIX) && name.length > REGISTRY_PREFIX.length
    ? name.slice(REGISTRY_PREFIX.length)
    : null;
}

export function registryName(registryId: string): string {
  return `${REGISTRY_PREFIX}${registryId}`;
}

export const CORE_FIELDS = [
  "registry_id",
  "registry_url",
  "registry_api_index",
  "registry_documentation_s3_url",
  "registry_client_sdk_s3_url",
  "registry_acl_config_info",
  "registry_asset_id",
  "health_check_api",
  "registry_search_data",
] as const;

export const SEARCH_FIELDS = [
  "registry_id",
  "registry_type",
  "registry_sub_type",
  "registry_metadata",
  "registry_search_tags",
  "registry_search_description",
] as const;

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Fields of `source` outside `known`, in their original order. */
function extras(source: JsonObject, known: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(source)) if (!known.includes(k)) out[k] = v;
  return out;
}

function searchData(registryId: string, v: Json | undefined): Json {
  if (!isObject(v)) return null;
  return {
    registry_id: typeof v.registry_id === "string" ? v.registry_id : registryId,
    registry_type: v.registry_type ?? null,
    registry_sub_type: v.registry_sub_type ?? null,
    registry_metadata: isObject(v.registry_metadata) ? v.registry_metadata : {},
    registry_search_tags: Array.isArray(v.registry_search_tags) ? v.registry_search_tags : [],
    registry_search_description: v.registry_search_description ?? null,
    ...extras(v, SEARCH_FIELDS),
  };
}

/**
 * The full RegistryCoreData document of a record: every field present (absent optionals as null,
 * dicts as {}, lists as []), `registry_id` taken from the register name, plus any further fields
 * of the value kept as they are. A value that is not an object gives a record with only its id.
 */
export function toRegistryCoreData(registryId: string, value: Json): JsonObject {
  const v: JsonObject = isObject(value) ? value : {};
  return {
    registry_id: registryId,
    registry_url: v.registry_url ?? null,
    registry_api_index: v.registry_api_index ?? null,
    registry_documentation_s3_url: v.registry_documentation_s3_url ?? null,
    registry_client_sdk_s3_url: v.registry_client_sdk_s3_url ?? null,
    registry_acl_config_info: isObject(v.registry_acl_config_info) ? v.registry_acl_config_info : {},
    registry_asset_id: v.registry_asset_id ?? null,
    health_check_api: v.health_check_api ?? null,
    registry_search_data: searchData(registryId, v.registry_search_data),
    ...extras(v, CORE_FIELDS),
  };
}
