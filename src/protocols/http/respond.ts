// What every answer about the register space shares (REST, discovery): the global revision in X-Switchboard-Index and the body, poll options, wake metrics.

import { INDEX_HEADER } from "@switchboard/wire";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type PollOptions, type Switchboard, SwitchboardError, type WaitKind } from "../../core/index.js";
import type { Metrics } from "../../metrics.js";
import { type Query, waitParam } from "./parse.js";

/**
 * Answers `{index, epoch, ...body}` with the same index in the X-Switchboard-Index header (the
 * epoch header is set for every answer by the HTTP host). The epoch says which history the index
 * belongs to: a client passes both back.
 */
export function indexed(
  c: Context,
  at: { readonly index: number; readonly epoch: string },
  body: object,
  status: ContentfulStatusCode = 200,
) {
  c.header(INDEX_HEADER, String(at.index));
  return c.json({ index: at.index, epoch: at.epoch, ...body }, status);
}

/** The current revision and epoch, for answers that are not polls. */
export function now(core: Switchboard): { index: number; epoch: string } {
  return { index: core.revision, epoch: core.epoch };
}

/** The `epoch` query parameter: which history the request's index or after came from (empty = unknown). */
export function epochParam(c: Context | Query): string | undefined {
  const v = typeof c === "function" ? c("epoch")?.[0] : c.req.query("epoch");
  if (v === undefined || v === "") return undefined;
  if (v.length > 64) throw new SwitchboardError("INVALID_QUERY", "epoch is at most 64 characters");
  return v;
}

/** What a protocol's long-polls are configured with (REST's context is one). */
export interface PollSettings {
  readonly options: { readonly defaultWaitMs: number; readonly random?: () => number };
}

/** The wait (the core decides whether it applies), the client's disconnect signal and the jitter source. */
export function pollOptions(c: Context, settings: PollSettings, signal: AbortSignal = c.req.raw.signal): PollOptions {
  return { ...holdOptions(c, settings), signal };
}

/** The poll options without a signal (the node-level poll routes end a hold through its handle). */
export function holdOptions(c: Context | Query, { options }: PollSettings): PollOptions {
  const epoch = epochParam(c);
  return {
    ...(epoch === undefined ? {} : { epoch }),
    waitMs: waitParam(c, options.defaultWaitMs),
    ...(options.random ? { random: options.random } : {}),
  };
}

/** Records how long after the change that woke it a long-poll is being answered. */
export function observeWake(
  { core, metrics }: { readonly core: Switchboard; readonly metrics: Metrics },
  kind: WaitKind,
  changedAt: number | undefined,
): void {
  if (changedAt === undefined) return;
  metrics.wakeLatency.observe({ kind }, Math.max(0, core.clock.now() - changedAt) / 1000);
}
