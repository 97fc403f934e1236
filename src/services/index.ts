// The services layer: what protocols use beyond the core (discovery, readiness, registry records).

import type { Switchboard } from "../core/index.js";
import { Auth } from "./auth/index.js";
import { Discovery } from "./discovery.js";
import { ReadinessCheck } from "./health.js";

export interface Services {
  readonly auth: Auth;
  readonly discovery: Discovery;
  readonly readiness: ReadinessCheck;
}

export function createServices(
  core: Switchboard,
  options: { started: () => boolean; auth: boolean; rateLimit?: number; authFailuresPerMinute?: number },
): Services {
  return {
    auth: new Auth(core, {
      enabled: options.auth,
      rateLimit: options.rateLimit ?? 0,
      failuresPerMinute: options.authFailuresPerMinute ?? 10,
    }),
    discovery: new Discovery(core),
    readiness: new ReadinessCheck(core, options.started),
  };
}

export { Discovery, type ServiceRecord, serviceName, servicePrefix, toService } from "./discovery.js";
export type { Readiness } from "./health.js";
