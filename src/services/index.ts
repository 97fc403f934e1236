// The services layer: what protocols use beyond the core (discovery, readiness, registry records).

import type { Logger } from "pino";
import type { ObjectStore, Switchboard } from "../core/index.js";
import { Discovery } from "./discovery.js";
import { ReadinessCheck } from "./health.js";
import { RegistryRecords } from "./registry/records.js";
import type { UploadStatusStore } from "./registry/upload-status.js";
import { type UploadOptions, UploadService } from "./registry/uploads.js";

export interface Services {
  readonly discovery: Discovery;
  readonly readiness: ReadinessCheck;
  readonly registry: RegistryRecords;
  readonly uploads: UploadService;
}

export interface ServicesOptions {
  readonly started: () => boolean;
  readonly objects: ObjectStore;
  readonly uploadStatus: UploadStatusStore;
  readonly upload: UploadOptions;
  readonly log: Logger;
}

export function createServices(core: Switchboard, options: ServicesOptions): Services {
  const registry = new RegistryRecords(core);
  return {
    discovery: new Discovery(core),
    readiness: new ReadinessCheck(core, options.started),
    registry,
    uploads: new UploadService(registry, options.objects, options.uploadStatus, options.upload, options.log),
  };
}

export { Discovery, type ServiceRecord, serviceName, servicePrefix, toService } from "./discovery.js";
export type { Readiness } from "./health.js";
