// Registry-of-registries records: their shape and the Mongo mirror of it.

export { registryMirror } from "./mirror.js";
export {
  CORE_FIELDS,
  REGISTRY_PREFIX,
  registryIdOf,
  registryName,
  SEARCH_FIELDS,
  toRegistryCoreData,
} from "./record.js";
