// GET /registers (paged listing) and GET /events (Server-Sent Events, resumable with Last-Event-ID).

import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { assertPrefix, isValidName, outcomesOf, SwitchboardError, type SwitchboardEvent } from "../../core/index.js";
import { principalOf } from "../http/auth.js";
import { formatRegister, formatRequest } from "../http/format.js";
import { intParam, singleQuery } from "../http/parse.js";
import { epochParam, indexed, now } from "../http/respond.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import { fitting, type PollSlots, pollSlots } from "./limits.js";

const HEARTBEAT_MS = 15_000;
const SSE_BATCH_BYTES = 64 * 1024;

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

export function registerRoutes({ core, http, limits, log, services }: RestContext, eventSlots?: PollSlots): Hono {
  const { auth } = services;
  const app = new Hono();

  app.get("/registers", (c) => {
    const prefix = singleQuery(c, "prefix") ?? "";
    assertPrefix(prefix);
    const limit = intParam(c, "limit") ?? 100;
    const cursor = singleQuery(c, "cursor");
    const principal = principalOf(c, auth);
    auth.requireSignedIn(principal);
    const page = core.list(prefix, limit, cursor ? decodeCursor(cursor) : undefined);
    // Filtered after paging: a page may come back shorter than the limit; the cursor still continues.
    const readable = page.registers.filter((r) => auth.may(principal, "read", r.name));
    // A page is cut short (with a cursor) rather than passing maxResponseBytes: paging is the way round that cap.
    const fit = fitting(readable.map(formatRegister), limits.maxResponseBytes - 1024);
    const next = fit.length < readable.length ? readable[fit.length - 1]!.name : page.next;
    return indexed(c, now(core), { registers: fit, cursor: next === null ? null : encodeCursor(next) });
  });

  // Requests the node-level hub (sse-hub.ts) does not take: CORS ones.
  app.get("/events", pollSlots(eventSlots ?? limits.maxPollsPerClient), (c) => {
    const prefix = singleQuery(c, "prefix") ?? "";
    assertPrefix(prefix);
    const lastId = c.req.header("Last-Event-ID");
    const fromQuery = intParam(c, "after");
    let after: number | undefined = fromQuery;
    if (lastId !== undefined) {
      if (!/^\d{1,15}$/.test(lastId)) throw new SwitchboardError("INVALID_INDEX", "Last-Event-ID must be a revision");
      after = Number(lastId);
    }
    const principal = principalOf(c, auth);
    auth.requireSignedIn(principal);
    const epoch = epochParam(c);
    const whereText = singleQuery(c, "where");
    const where = whereText === undefined ? undefined : services.filters.parse(whereText);
    c.header(INDEX_HEADER, String(core.revision));
    // Taken before the stream starts so that a full server answers 429 rather than an empty stream.
    const watch = core.watch({
      prefixes: [prefix],
      ...(after === undefined ? {} : { after }),
      ...(epoch === undefined ? {} : { epoch }),
      ...(where === undefined ? {} : { where }),
    });
    return streamSSE(
      c,
      async (stream) => {
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
          // Items already buffered (a replayed backlog) go out in batches of ~64 KiB, one write each: a write per
          // event through the web stream costs more than the event. JSON.stringify never emits a raw newline, so
          // each event is one data line.
          let batch = "";
          for await (const item of watch) {
            if (item.type === "resync") {
              const data = JSON.stringify({ index: item.index, epoch: core.epoch });
              batch += `event: resync\ndata: ${data}\nid: ${item.index}\n\n`;
            } else if (item.type === "event") {
              const e = item.event;
              if (auth.may(principal, "read", e.name)) {
                const data = JSON.stringify({ ...eventPayload(e), epoch: core.epoch });
                batch += `event: ${e.type}\ndata: ${data}\nid: ${e.revision}\n\n`;
                // Each request that left the queue also gets an outcome message (same revision).
                for (const o of outcomesOf(e)) {
                  const outcome = { type: "outcome", name: e.name, revision: e.revision, ...o, epoch: core.epoch };
                  batch += `event: outcome\ndata: ${JSON.stringify(outcome)}\nid: ${e.revision}\n\n`;
                }
              }
            }
            // A cut ends the stream: the client resumes with Last-Event-ID.
            if (batch.length >= SSE_BATCH_BYTES || watch.buffered <= 0) {
              if (batch !== "") await stream.write(batch);
              batch = "";
            }
          }
          if (batch) await stream.write(batch);
        } finally {
          clearInterval(heartbeat);
          unregister();
          unrevoke();
          void watch.return();
          c.req.raw.signal.removeEventListener("abort", end);
        }
      },
      // Without this hono prints a failed stream to stderr, outside the JSON log.
      async (err) => {
        log.warn({ err: err.message, path: "/events" }, "event stream failed");
      },
    );
  });

  return app;
}
