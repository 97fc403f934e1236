// The services layer: what protocols use beyond the core (discovery, readiness, registry records).

import type { Switchboard } from "../core/index.js";
import { Discovery } from "./discovery.js";
import { ReadinessCheck } from "./health.js";
import { RegistryRecords } from "./registry/records.js";

export interface Services {
  readonly discovery: Discovery;
  readonly readiness: ReadinessCheck;
  readonly registry: RegistryRecords;
}

export function createServices(core: Switchboard, options: { started: () => boolean }): Services {
  return {
    discovery: new Discovery(core),
    readiness: new ReadinessCheck(core, options.started),
    registry: new RegistryRecords(core),
  };
}

export { Discovery, type ServiceRecord, serviceName, servicePrefix, toService } from "./discovery.js";
export type { Readiness } from "./health.js";
