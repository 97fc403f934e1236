// GET /registers (paged listing) and GET /events (Server-Sent Events, resumable with Last-Event-ID).

import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { assertPrefix, isValidName, SwitchboardError, type SwitchboardEvent } from "../../core/index.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { formatRegister, formatRequest } from "./format.js";
import { intParam } from "./parse.js";
import { indexed } from "./respond.js";

const MAX_PAGE = 1000;
/** Events buffered for one slow SSE client before it is disconnected (it resumes with Last-Event-ID). */
const MAX_SSE_BACKLOG = 10_000;
const HEARTBEAT_MS = 15_000;

const encodeCursor = (name: string) => Buffer.from(name, "utf8").toString("base64url");
function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  if (!isValidName(name) || encodeCursor(name) !== cursor) {
    throw new SwitchboardError("INVALID_CURSOR", "the cursor was not produced by this server");
  }
  return name;
}

export function eventPayload(e: SwitchboardEvent): Record<string, unknown> {
  switch (e.type) {
    case "set":
      return { type: e.type, name: e.name, revision: e.revision, register: formatRegister(e.register) };
    case "request":
      return { type: e.type, name: e.name, revision: e.revision, request: formatRequest(e.request) };
    case "ack":
      return { type: e.type, name: e.name, revision: e.revision, upTo: e.upTo, reason: e.reason };
    default:
      return { type: e.type, name: e.name, revision: e.revision };
  }
}

export function registerRoutes({ core, streams }: RestContext): Hono {
  const app = new Hono();

  app.get("/registers", (c) => {
    const prefix = c.req.query("prefix") ?? "";
    assertPrefix(prefix);
    const limit = Math.min(intParam(c, "limit") ?? 100, MAX_PAGE);
    const cursor = c.req.query("cursor");
    const page = core.list(prefix, limit, cursor ? decodeCursor(cursor) : undefined);
    return indexed(c, core.revision, {
      registers: page.registers.map(formatRegister),
      cursor: page.next === null ? null : encodeCursor(page.next),
    });
  });

  app.get("/events", (c) => {
    const prefix = c.req.query("prefix") ?? "";
    assertPrefix(prefix);
    const lastId = c.req.header("Last-Event-ID");
    const fromQuery = intParam(c, "after");
    let after: number | undefined = fromQuery;
    if (lastId !== undefined) {
      if (!/^\d{1,15}$/.test(lastId)) throw new SwitchboardError("INVALID_INDEX", "Last-Event-ID must be a revision");
      after = Number(lastId);
    }
    c.header(INDEX_HEADER, String(core.revision));
    return streamSSE(c, async (stream) => {
      const queue: SwitchboardEvent[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      const stop = () => {
        closed = true;
        wake?.();
      };
      // Backlog and subscription are taken in the same tick, so nothing falls between them.
      const backlog = after === undefined ? [] : core.eventsSince(after, prefix);
      const unsubscribe = core.subscribe((e) => {
        if (!e.name.startsWith(prefix)) return;
        if (queue.length >= MAX_SSE_BACKLOG) return stop();
        queue.push(e);
        wake?.();
      });
      streams.add(stop);
      stream.onAbort(stop);
      c.req.raw.signal.addEventListener("abort", stop, { once: true });
      const heartbeat = setInterval(() => {
        void stream.write(": keep-alive\n\n").catch(stop);
      }, HEARTBEAT_MS);
      heartbeat.unref();
      try {
        if (backlog === null) {
          await stream.writeSSE({
            event: "resync",
            id: String(core.revision),
            data: JSON.stringify({ index: core.revision }),
          });
        } else {
          queue.unshift(...backlog);
        }
        while (!closed && !core.closing) {
          const e = queue.shift();
          if (e) {
            await stream.writeSSE({ event: e.type, id: String(e.revision), data: JSON.stringify(eventPayload(e)) });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (closed || core.closing) resolve();
          });
          wake = undefined;
        }
      } finally {
        clearInterval(heartbeat);
        streams.delete(stop);
        unsubscribe();
        c.req.raw.signal.removeEventListener("abort", stop);
      }
    });
  });

  return app;
}
