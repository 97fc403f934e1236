// What every REST route module receives from the protocol's composition.

import type { Logger } from "pino";
import type { Switchboard } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";

export interface RestOptions {
  /** Default long-poll wait, ms. */
  readonly defaultWaitMs: number;
  /** Largest request body, bytes. */
  readonly maxBodyBytes: number;
  /** Largest request head (request line + headers), bytes: room for maxNames names in a query. */
  readonly maxHeaderBytes: number;
  /** Access-Control-Allow-Origin value; empty disables CORS. */
  readonly corsOrigin: string;
  /** False while the server loads or stops (readyz). */
  readonly isReady: () => boolean;
  /** Random source for the long-poll jitter. */
  readonly random?: () => number;
}

export interface RestContext {
  readonly core: Switchboard;
  readonly options: RestOptions;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Closers of open event streams, called on shutdown. */
  readonly streams: Set<() => void>;
}

export const INDEX_HEADER = "X-Switchboard-Index";
