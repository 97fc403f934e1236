// The registry_core_data mirror: a `registries/<id>` register's value in the registry-of-registries RegistryCoreData document shape.

import type { Json, JsonObject } from "../../core/types.js";

export const REGISTRY_PREFIX = "registries/";

/** The registry_id a register name mirrors to, or null when the name is not a registry record. */
export function registryIdOf(name: string): string | null {
  return name.startsWith(REGISTRY_PREFIX) && name.length > REGISTRY_PREFIX.length
    ? name.slice(REGISTRY_PREFIX.length)
    : null;
}

const CORE_FIELDS = [
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

const SEARCH_FIELDS = [
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

/**
 * The mirror is for other tools and is never read back, so a key that Mongo would refuse is
 * made storable rather than failing the whole commit: a leading `$` becomes `＄`, `.` becomes `．`
 * and NUL becomes U+FFFD. Registry records validated at the edge never contain such keys.
 */
function storableKey(key: string): string {
  return key.replace(/^\$/, "\uFF04").replaceAll(".", "\uFF0E").replaceAll("\0", "\uFFFD");
}

function storable(value: Json): Json {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(storable);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) out[storableKey(k)] = storable(v);
  return out;
}

/** Fields of `source` outside `known`, made storable, in their original order. */
function extras(source: JsonObject, known: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(source)) if (!known.includes(k)) out[storableKey(k)] = storable(v);
  return out;
}

function searchData(registryId: string, v: Json | undefined): Json {
  if (!isObject(v)) return null;
  return {
    registry_id: typeof v.registry_id === "string" ? v.registry_id : registryId,
    registry_type: storable(v.registry_type ?? null),
    registry_sub_type: storable(v.registry_sub_type ?? null),
    registry_metadata: isObject(v.registry_metadata) ? storable(v.registry_metadata) : {},
    registry_search_tags: Array.isArray(v.registry_search_tags) ? storable(v.registry_search_tags) : [],
    registry_search_description: storable(v.registry_search_description ?? null),
    ...extras(v, SEARCH_FIELDS),
  };
}

/**
 * The RegistryCoreData document for a record, as the registry-of-registries service's `to_dict()` writes it: every field
 * present (absent optionals as null, dicts as {}, lists as []), `registry_id` taken from the
 * register name (the mirror's key), plus any further fields of the value kept as they are.
 * A value that is not an object mirrors as a record with only its id.
 */
export function toRegistryCoreData(registryId: string, value: Json): Record<string, unknown> {
  const v: JsonObject = isObject(value) ? value : {};
  return {
    registry_id: registryId,
    registry_url: storable(v.registry_url ?? null),
    registry_api_index: storable(v.registry_api_index ?? null),
    registry_documentation_s3_url: storable(v.registry_documentation_s3_url ?? null),
    registry_client_sdk_s3_url: storable(v.registry_client_sdk_s3_url ?? null),
    registry_acl_config_info: isObject(v.registry_acl_config_info) ? storable(v.registry_acl_config_info) : {},
    registry_asset_id: storable(v.registry_asset_id ?? null),
    health_check_api: storable(v.health_check_api ?? null),
    registry_search_data: searchData(registryId, v.registry_search_data),
    ...extras(v, CORE_FIELDS),
  };
}
