// What every REST answer shares: the global revision in X-Switchboard-Index and the body, poll options, wake metrics.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type PollOptions, type Switchboard, SwitchboardError, type WaitKind } from "../../core/index.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { type Query, waitParam } from "./parse.js";

/**
 * Answers `{index, epoch, ...body}` with the same index in the X-Switchboard-Index header (the
 * epoch header is set for every answer by the HTTP host). The epoch says which history the index
 * belongs to: a client passes both back.
 */
export function indexed(
  c: Context,
  at: { readonly index: number; readonly epoch: string },
  body: Record<string, unknown>,
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

/** The wait (the core decides whether it applies), the client's disconnect signal and the jitter source. */
export function pollOptions(c: Context, ctx: RestContext, signal: AbortSignal = c.req.raw.signal): PollOptions {
  return { ...holdOptions(c, ctx), signal };
}

/** The poll options without a signal (the node-level poll routes end a hold through its handle). */
export function holdOptions(c: Context | Query, { options }: RestContext): PollOptions {
  const epoch = epochParam(c);
  return {
    ...(epoch === undefined ? {} : { epoch }),
    waitMs: waitParam(c, options.defaultWaitMs),
    ...(options.random ? { random: options.random } : {}),
  };
}

/** Records how long after the change that woke it a long-poll is being answered. */
export function observeWake({ core, metrics }: RestContext, kind: WaitKind, changedAt: number | undefined): void {
  if (changedAt === undefined) return;
  metrics.wakeLatency.observe({ kind }, Math.max(0, core.clock.now() - changedAt) / 1000);
}
