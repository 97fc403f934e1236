// The mongo storage adapter's public surface.

export type { MongoLogger } from "./health.js";
export type { MongoMirror } from "./mirror.js";
export {
  createMongoPersistence,
  type MongoPersistence,
  type MongoPersistenceOptions,
} from "./mongo-persistence.js";
