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
export function pollSlots(max: number): MiddlewareHandler {
  const held = new Map<string, number>();
  const release = (addr: string) => {
    const n = (held.get(addr) ?? 1) - 1;
    if (n <= 0) held.delete(addr);
    else held.set(addr, n);
  };
  return async (c, next) => {
    const env = c.env as NodeBindings | undefined;
    const addr = env?.incoming?.socket?.remoteAddress ?? "unknown";
    const n = (held.get(addr) ?? 0) + 1;
    if (n > max) {
      throw new SwitchboardError("TOO_MANY_POLLS", `this client holds ${max} polls or streams already`, {
        retryAfter: 1,
        details: { maxPollsPerClient: max },
      });
    }
    held.set(addr, n);
    const out = env?.outgoing;
    if (out === undefined) {
      try {
        await next();
      } finally {
        release(addr);
      }
      return;
    }
    let released = false;
    const once = () => {
      if (released) return;
      released = true;
      release(addr);
    };
    out.once("close", once);
    try {
      await next();
    } catch (err) {
      once();
      throw err;
    }
  };
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
  c.header(INDEX_HEADER, String(index));
  c.header("Content-Type", "application/json");
  return c.body(`${head}${head.length > 1 ? "," : ""}"${key}":[${parts.join(",")}]}`, 200);
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
