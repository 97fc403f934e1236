// GET /registers (paged listing) and GET /events (Server-Sent Events, resumable with Last-Event-ID).

import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { assertPrefix, isValidName, outcomesOf, SwitchboardError, type SwitchboardEvent } from "../../core/index.js";
import { principalOf } from "../http/auth.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { formatRegister, formatRequest } from "./format.js";
import { intParam } from "./parse.js";
import { epochParam, indexed, now } from "./respond.js";

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
      return {
        type: e.type,
        name: e.name,
        revision: e.revision,
        upTo: e.upTo,
        ...(e.ids === undefined ? {} : { ids: e.ids }),
        ...(e.outcomes === undefined ? {} : { outcomes: e.outcomes }),
        reason: e.reason,
      };
    default:
      return { type: e.type, name: e.name, revision: e.revision };
  }
}

export function registerRoutes({ core, http, services }: RestContext): Hono {
  const { auth } = services;
  const app = new Hono();

  app.get("/registers", (c) => {
    const prefix = c.req.query("prefix") ?? "";
    assertPrefix(prefix);
    const limit = intParam(c, "limit") ?? 100;
    const cursor = c.req.query("cursor");
    const principal = principalOf(c, auth);
    if (principal.kind === "anonymous" && auth.enabled) auth.authorize(principal, "read");
    const page = core.list(prefix, limit, cursor ? decodeCursor(cursor) : undefined);
    // Filtered after paging: a page may come back shorter than the limit; the cursor still continues.
    return indexed(c, now(core), {
      registers: page.registers.filter((r) => auth.may(principal, "read", r.name)).map(formatRegister),
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
    const principal = principalOf(c, auth);
    if (principal.kind === "anonymous" && auth.enabled) auth.authorize(principal, "read");
    const epoch = epochParam(c);
    c.header(INDEX_HEADER, String(core.revision));
    // Taken before the stream starts so that a full server answers 429 rather than an empty stream.
    const watch = core.watch({
      prefixes: [prefix],
      ...(after === undefined ? {} : { after }),
      ...(epoch === undefined ? {} : { epoch }),
    });
    return streamSSE(c, async (stream) => {
      const end = () => void watch.return();
      const unregister = http.onStop(end);
      const unrevoke = auth.onRevoke(principal, end);
      stream.onAbort(end);
      c.req.raw.signal.addEventListener("abort", end, { once: true });
      const heartbeat = setInterval(() => {
        void stream.write(": keep-alive\n\n").catch(end);
      }, HEARTBEAT_MS);
      heartbeat.unref();
      try {
        for await (const item of watch) {
          if (item.type === "resync") {
            await stream.writeSSE({
              event: "resync",
              id: String(item.index),
              data: JSON.stringify({ index: item.index, epoch: core.epoch }),
            });
          } else if (item.type === "event") {
            const e = item.event;
            if (!auth.may(principal, "read", e.name)) continue;
            const data = JSON.stringify({ ...eventPayload(e), epoch: core.epoch });
            await stream.writeSSE({ event: e.type, id: String(e.revision), data });
            // Each request that left the queue also gets an outcome message (same revision).
            for (const o of outcomesOf(e)) {
              const outcome = { type: "outcome", name: e.name, revision: e.revision, ...o, epoch: core.epoch };
              await stream.writeSSE({ event: "outcome", id: String(e.revision), data: JSON.stringify(outcome) });
            }
          }
          // A cut ends the stream: the client resumes with Last-Event-ID.
        }
      } finally {
        clearInterval(heartbeat);
        unregister();
        unrevoke();
        void watch.return();
        c.req.raw.signal.removeEventListener("abort", end);
      }
    });
  });

  return app;
}
