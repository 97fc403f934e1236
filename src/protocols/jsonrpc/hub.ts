// The Plexus hub envelope: `_info`, subscription notifications and their data / done / error stream items.

import { createHash } from "node:crypto";
import { METHOD_NAMES } from "./methods.js";

/** What `_info` names this server as; hub-style clients then call `<backend>.call`. */
export const HUB_BACKEND = "registry-hub";
export const HUB_CALL = `${HUB_BACKEND}.call`;
export const HUB_UNSUB = `${HUB_BACKEND}.call_unsub`;
/** Subscription notifications carry this method name, as Plexus hubs send them. */
export const NOTIFICATION_METHOD = "result";

export const ACTIVATION = {
  namespace: "registry",
  version: "1.0.0",
  description: "Backend discovery and registration service for Plexus hubs",
} as const;

/**
 * 16 lowercase hex digits naming the served method set: clients cache schemas by it, so it
 * changes only when the methods do.
 */
export const PLEXUS_HASH = createHash("sha256")
  .update(`${ACTIVATION.namespace}@${ACTIVATION.version}:${[...METHOD_NAMES, "watch"].sort().join(",")}`)
  .digest("hex")
  .slice(0, 16);

export interface StreamMetadata {
  readonly provenance: readonly string[];
  readonly plexus_hash: string;
  /** Unix seconds. */
  readonly timestamp: number;
}

export type StreamItem =
  | {
      readonly type: "data";
      readonly metadata: StreamMetadata;
      readonly content_type: string;
      readonly content: unknown;
    }
  | { readonly type: "done"; readonly metadata: StreamMetadata }
  | {
      readonly type: "error";
      readonly metadata: StreamMetadata;
      readonly message: string;
      readonly code?: string;
      readonly recoverable: boolean;
    };

export function info(serverVersion: string): unknown {
  return { backend: HUB_BACKEND, version: serverVersion, activations: [ACTIVATION] };
}

/** Builds the items of one subscription, stamped with the caller's clock. */
export function itemFactory(nowMs: () => number) {
  const meta = (): StreamMetadata => ({
    provenance: [ACTIVATION.namespace],
    plexus_hash: PLEXUS_HASH,
    timestamp: Math.floor(nowMs() / 1000),
  });
  return {
    data: (method: string, content: unknown): StreamItem => ({
      type: "data",
      metadata: meta(),
      content_type: method,
      content,
    }),
    done: (): StreamItem => ({ type: "done", metadata: meta() }),
    error: (message: string, code: string | undefined, recoverable: boolean): StreamItem =>
      code === undefined
        ? { type: "error", metadata: meta(), message, recoverable }
        : { type: "error", metadata: meta(), message, code, recoverable },
  };
}

export function notification(method: string, subscription: number, result: unknown): unknown {
  return { jsonrpc: "2.0", method, params: { subscription, result } };
}
