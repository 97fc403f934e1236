// The mongo storage adapter's public surface.

export type { MongoLogger } from "./health.js";
export {
  createMongoPersistence,
  type MongoPersistence,
  type MongoPersistenceOptions,
} from "./mongo-persistence.js";
export { REGISTRY_PREFIX, registryIdOf, toRegistryCoreData } from "./registry-mirror.js";
