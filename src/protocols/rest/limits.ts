// REST's per-client limits: long-polls and event streams held per client address, and the size of unpaged answers.

import type { Context, MiddlewareHandler } from "hono";
import { SwitchboardError } from "../../core/index.js";
import { INDEX_HEADER } from "./context.js";

interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
  outgoing?: { once(event: "close", fn: () => void): unknown; writableEnded?: boolean; destroyed?: boolean };
}

/**
 * At most `max` polls and streams at once per client address (429 TOO_MANY_POLLS beyond): one client cannot
 * take every waiter slot. A slot is held until the response is done or the connection closes, so an event
 * stream keeps its slot for as long as it is open.
 */
export function pollSlots(limit: number | PollSlots): MiddlewareHandler {
  const slots = typeof limit === "number" ? new PollSlots(limit) : limit;
  return async (c, next) => {
    const env = c.env as NodeBindings | undefined;
    const addr = env?.incoming?.socket?.remoteAddress ?? "unknown";
    const release = slots.take(addr);
    const out = env?.outgoing;
    if (out === undefined) {
      try {
        await next();
      } finally {
        release();
      }
      return;
    }
    out.once("close", release);
    try {
      await next();
    } catch (err) {
      release();
      throw err;
    }
  };
}

/** The per-address count behind pollSlots, shared by a route's hono and node-level handlers. */
export class PollSlots {
  readonly #held = new Map<string, number>();
  constructor(readonly max: number) {}

  /** Takes a slot for `addr` (TOO_MANY_POLLS when it holds max already); returns its release, harmless twice. */
  take(addr: string): () => void {
    const n = (this.#held.get(addr) ?? 0) + 1;
    if (n > this.max) {
      throw new SwitchboardError("TOO_MANY_POLLS", `this client holds ${this.max} polls or streams already`, {
        retryAfter: 1,
        details: { maxPollsPerClient: this.max },
      });
    }
    this.#held.set(addr, n);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(addr) ?? 1) - 1;
      if (left <= 0) this.#held.delete(addr);
      else this.#held.set(addr, left);
    };
  }
}

/**
 * Answers `{index, [key]: [...items]}` built one item at a time, refusing with 413 RESPONSE_TOO_LARGE as soon as
 * it would pass maxBytes: a prefix read over a large state never builds one giant string (V8 caps strings at
 * 512 MiB) and stops early instead of stalling the event loop.
 */
export function cappedList<T>(
  c: Context,
  index: number,
  extra: Record<string, unknown>,
  key: string,
  items: readonly T[],
  format: (item: T) => unknown,
  maxBytes: number,
): Response {
  const body = cappedListBody(index, extra, key, items, format, maxBytes);
  c.header(INDEX_HEADER, String(index));
  c.header("Content-Type", "application/json");
  return c.body(body, 200);
}

/** The body cappedList answers, as a string (RESPONSE_TOO_LARGE when it would pass maxBytes). */
export function cappedListBody<T>(
  index: number,
  extra: Record<string, unknown>,
  key: string,
  items: readonly T[],
  format: (item: T) => unknown,
  maxBytes: number,
): string {
  const head = JSON.stringify({ index, ...extra }).slice(0, -1);
  const parts: string[] = [];
  let bytes = head.length + key.length + 8;
  for (const item of items) {
    const json = JSON.stringify(format(item));
    bytes += json.length + 1;
    if (bytes > maxBytes) {
      throw new SwitchboardError(
        "RESPONSE_TOO_LARGE",
        `the answer is larger than ${maxBytes} bytes: page through GET /registers?prefix=…&cursor=… instead`,
        { details: { maxResponseBytes: maxBytes, items: items.length, alternative: "/registers?prefix=&cursor=" } },
      );
    }
    parts.push(json);
  }
  return `${head}${head.length > 1 ? "," : ""}"${key}":[${parts.join(",")}]}`;
}

/** The longest head of `items` (at least one) whose JSON fits in maxBytes. */
export function fitting<T>(items: readonly T[], maxBytes: number): T[] {
  let bytes = 0;
  const out: T[] = [];
  for (const item of items) {
    bytes += JSON.stringify(item).length + 1;
    if (bytes > maxBytes && out.length > 0) break;
    out.push(item);
  }
  return out;
}
