// Registry-of-registries records: their shape, validation, query index, queries and the Mongo mirror of them.

export { DEFAULT_LIMIT, MAX_LIMIT } from "./filter.js";
export { registryMirror } from "./mirror.js";
export {
  CORE_FIELDS,
  REGISTRY_PREFIX,
  registryIdOf,
  registryName,
  SEARCH_FIELDS,
  toRegistryCoreData,
} from "./record.js";
export { PARTIAL_FIELDS, type RegistryAnswer, RegistryRecords, type RegistryWrite } from "./records.js";
export { parseSpec, REGISTRY_ID, type RegistrySpec } from "./schema.js";
