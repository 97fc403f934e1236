// The registry_core_data mirror handed to the Mongo store: registry records in the seed's document shape.

import { REGISTRY_PREFIX, registryIdOf, toRegistryCoreData } from "./record.js";

/** Structurally a storage/mongo MongoMirror (services do not import storage; the root passes it on). */
export const registryMirror = {
  collection: "registry_core_data",
  key: "registry_id",
  prefix: REGISTRY_PREFIX,
  keyOf: registryIdOf,
  documentOf: toRegistryCoreData,
} as const;
