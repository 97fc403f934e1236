// What every REST answer shares: the global revision in X-Switchboard-Index and the body, poll options, wake metrics.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { PollOptions, WaitKind } from "../../core/index.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { waitParam } from "./parse.js";

/** Answers `{index, ...body}` with the same index in the X-Switchboard-Index header. */
export function indexed(c: Context, index: number, body: Record<string, unknown>, status: ContentfulStatusCode = 200) {
  c.header(INDEX_HEADER, String(index));
  return c.json({ index, ...body }, status);
}

/** The wait (the core decides whether it applies), the client's disconnect signal and the jitter source. */
export function pollOptions(c: Context, { options }: RestContext, signal: AbortSignal = c.req.raw.signal): PollOptions {
  return {
    waitMs: waitParam(c, options.defaultWaitMs),
    signal,
    ...(options.random ? { random: options.random } : {}),
  };
}

/** Records how long after the change that woke it a long-poll is being answered. */
export function observeWake({ core, metrics }: RestContext, kind: WaitKind, changedAt: number | undefined): void {
  if (changedAt === undefined) return;
  metrics.wakeLatency.observe({ kind }, Math.max(0, core.clock.now() - changedAt) / 1000);
}
