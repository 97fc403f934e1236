// What the registry API's route modules share: the records service and the operation counter.

import type { Context } from "hono";
import type { Switchboard } from "../../core/index.js";
import type { RegistryRecords } from "../../services/registry/index.js";
import type { UploadService } from "../../services/registry/uploads.js";
import type { RecordAccess } from "./access.js";

export interface RegistryApiContext {
  readonly core: Switchboard;
  readonly registry: RegistryRecords;
  readonly uploads: UploadService;
  /** Counts one operation in switchboard_protocol_operations_total{protocol="registry-api"}. */
  readonly count: (operation: string) => void;
  /** What the caller of this request may see and change (per record, registries/<id>). */
  readonly access: (c: Context) => RecordAccess;
}
