// What every REST route module receives from the protocol's composition.

import type { Logger } from "pino";
import type { Switchboard } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import type { Services } from "../../services/index.js";
import type { HttpMount, Listener } from "../protocol.js";

export interface RestOptions {
  /** Default long-poll wait, ms. */
  readonly defaultWaitMs: number;
  /** /metrics, /status and /openapi.json without a token even when auth is on. */
  readonly publicMetrics: boolean;
  /** Random source for the long-poll jitter. */
  readonly random?: () => number;
}

export interface RestLimits {
  /** Polls and event streams held at once per client address. */
  readonly maxPollsPerClient: number;
  /** Largest unpaged read or poll answer, bytes. */
  readonly maxResponseBytes: number;
}

export interface RestContext {
  readonly core: Switchboard;
  readonly limits: RestLimits;
  readonly services: Services;
  readonly options: RestOptions;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly http: HttpMount;
  readonly listeners: () => readonly Listener[];
  readonly version: string;
  readonly startedAt: number;
}

export { INDEX_HEADER } from "@switchboard/wire";
