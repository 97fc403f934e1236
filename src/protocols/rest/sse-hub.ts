// GET /events at node level: one core.watch per distinct live selection shared by every stream of it, each
// batch of events serialised once per reader's view and written with res.write; resuming streams replay on a
// private watch. A stream whose socket falls too far behind is cut (the client resumes with Last-Event-ID).

import type { ServerResponse } from "node:http";
import { assertPrefix, outcomesOf, SwitchboardError, type Watch, type WatchItem } from "../../core/index.js";
import type { Principal } from "../../services/auth/index.js";
import { intParam, parseQuery, singleQuery } from "../http/parse.js";
import { epochParam } from "../http/respond.js";
import type { FastHandler } from "../protocol.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import type { PollSlots } from "./limits.js";
import { eventPayload } from "./registers.js";

const HEARTBEAT_MS = 15_000;
const BATCH_BYTES = 64 * 1024;
/** A stream is cut once this many frames wait behind a full socket buffer (the watch's own buffer limit)… */
const MAX_BEHIND_FRAMES = 10_000;
/** …or once this many bytes do. */
const MAX_BEHIND_BYTES = 8 * 1024 * 1024;

const HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  Connection: "keep-alive",
};
const KEEP_ALIVE = Buffer.from(": keep-alive\n\n");

interface Stream {
  readonly res: ServerResponse;
  readonly principal: Principal;
  /** The view key: streams with the same key are allowed the same registers. */
  readonly view: string;
  /** Events up to this revision are not for this stream (it joined a shared feed after them). */
  readonly from: number;
  behind: number;
  end(): void;
}

interface Frame {
  readonly name: string | undefined;
  readonly revision: number;
  readonly text: string;
}

/** One watch and the streams it feeds (one stream for a private feed). */
class Feed {
  readonly streams = new Set<Stream>();
  #stopped = false;

  constructor(
    readonly watch: Watch,
    private readonly ctx: RestContext,
    private readonly onEmpty: () => void,
    /** A private feed (one stream) waits for its socket to drain, its watch buffering (and cutting) meanwhile. */
    private readonly single = false,
  ) {
    void this.#run();
  }

  remove(s: Stream): void {
    if (!this.streams.delete(s)) return;
    if (this.streams.size === 0) this.stop();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    void this.watch.return();
    this.onEmpty();
    for (const s of [...this.streams]) s.end();
  }

  async #run(): Promise<void> {
    const { core } = this.ctx;
    let batch: Frame[] = [];
    let bytes = 0;
    try {
      for await (const item of this.watch as AsyncIterable<WatchItem>) {
        if (item.type === "resync") {
          const data = JSON.stringify({ index: item.index, epoch: core.epoch });
          batch.push({
            name: undefined,
            revision: item.index,
            text: `event: resync\ndata: ${data}\nid: ${item.index}\n\n`,
          });
        } else if (item.type === "event") {
          const e = item.event;
          // JSON.stringify never emits a raw newline, so each event is one data line.
          let text = `event: ${e.type}\ndata: ${JSON.stringify({ ...eventPayload(e), epoch: core.epoch })}\nid: ${e.revision}\n\n`;
          // Each request that left the queue also gets an outcome message (same revision).
          for (const o of outcomesOf(e)) {
            const outcome = { type: "outcome", name: e.name, revision: e.revision, ...o, epoch: core.epoch };
            text += `event: outcome\ndata: ${JSON.stringify(outcome)}\nid: ${e.revision}\n\n`;
          }
          batch.push({ name: e.name, revision: e.revision, text });
          bytes += text.length;
        }
        if (bytes >= BATCH_BYTES || this.watch.buffered <= 0) {
          if (batch.length > 0) this.#write(batch);
          batch = [];
          bytes = 0;
          if (this.single) await this.#drained();
        }
        if (this.#stopped) break;
      }
      if (batch.length > 0) this.#write(batch);
    } finally {
      // The watch ended (a cut of the feed, or the core closing): every stream ends, clients resume.
      this.stop();
    }
  }

  /** Writes a batch to every stream: one Buffer per distinct view, filtered by the view's read rights. */
  #write(batch: readonly Frame[]): void {
    const { auth } = this.ctx.services;
    const views = new Map<string, Buffer | null>();
    const first = batch[0]!.revision;
    for (const s of this.streams) {
      let buf: Buffer | null | undefined;
      const fresh = s.from < first;
      if (fresh) buf = views.get(s.view);
      if (buf === undefined) {
        let text = "";
        for (const f of batch) {
          if (f.name !== undefined && f.revision <= s.from) continue;
          if (f.name === undefined || !auth.enabled || auth.may(s.principal, "read", f.name)) text += f.text;
        }
        buf = text === "" ? null : Buffer.from(text);
        if (fresh) views.set(s.view, buf);
      }
      if (buf !== null) this.#send(s, buf);
    }
  }

  /** Resolves once the private stream's socket takes writes again (or it is gone). */
  async #drained(): Promise<void> {
    const s = this.streams.values().next().value;
    if (s === undefined || !s.res.writableNeedDrain || s.res.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        s.res.off("drain", done);
        s.res.off("close", done);
        resolve();
      };
      s.res.on("drain", done);
      s.res.on("close", done);
    });
  }

  #send(s: Stream, buf: Buffer): void {
    if (s.res.destroyed) {
      s.end();
      return;
    }
    if (this.single) {
      s.res.write(buf);
      return;
    }
    s.behind = s.res.writableNeedDrain ? s.behind + 1 : 0;
    if (s.behind > MAX_BEHIND_FRAMES || s.res.writableLength > MAX_BEHIND_BYTES) {
      this.ctx.metrics.streamsCut.labels("sse").inc();
      this.ctx.log.info(
        { path: "/events", behindFrames: s.behind, behindBytes: s.res.writableLength },
        "event stream cut: the client does not read",
      );
      s.res.destroy();
      s.end();
      return;
    }
    s.res.write(buf);
  }
}

/** The node-level GET /events (the hono route keeps serving CORS requests). */
export function sseHub(ctx: RestContext, slots: PollSlots): FastHandler {
  const { core, services, http } = ctx;
  const { auth } = services;
  const shared = new Map<string, Feed>();
  const all = new Set<Stream>();
  let heartbeat: NodeJS.Timeout | undefined;
  const beat = () => {
    for (const s of all) if (!s.res.writableNeedDrain) s.res.write(KEEP_ALIVE);
  };

  return (fr) => {
    const q = parseQuery(fr.target);
    const prefix = singleQuery(q, "prefix") ?? "";
    assertPrefix(prefix);
    const lastId = fr.req.headers["last-event-id"];
    let after = intParam(q, "after");
    if (lastId !== undefined) {
      if (typeof lastId !== "string" || !/^\d{1,15}$/.test(lastId)) {
        throw new SwitchboardError("INVALID_INDEX", "Last-Event-ID must be a revision");
      }
      after = Number(lastId);
    }
    const principal = fr.principal;
    auth.requireSignedIn(principal);
    const epoch = epochParam(q);
    const whereText = singleQuery(q, "where");
    const where = whereText === undefined ? undefined : services.filters.parse(whereText);
    const release = slots.take(fr.address || "unknown");
    // A stream starting now (or from the current revision of this epoch) joins the shared live feed.
    const live =
      (after === undefined || after === core.revision) && (epoch === undefined || epoch === "" || epoch === core.epoch);
    const key = `${prefix}\n${whereText ?? ""}`;
    let feed: Feed | undefined;
    let untrack: (() => void) | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      release();
      untrack?.();
      unstop();
      unrevoke();
      all.delete(stream);
      if (all.size === 0 && heartbeat !== undefined) {
        clearInterval(heartbeat);
        heartbeat = undefined;
      }
      feed?.remove(stream);
      if (!fr.res.writableEnded) fr.res.end();
    };
    let unstop: () => void = () => undefined;
    let unrevoke: () => void = () => undefined;
    const view = auth.enabled ? `${principal.kind}:${principal.id ?? ""}` : "";
    const stream: Stream = { res: fr.res, principal, view, from: live ? core.revision : -1, behind: 0, end };
    try {
      if (live) {
        feed = shared.get(key);
        untrack = core.trackSubscriber(end);
        if (feed === undefined) {
          const w = core.watch({ prefixes: [prefix], ...(where === undefined ? {} : { where }) });
          const created: Feed = new Feed(w, ctx, () => {
            if (shared.get(key) === created) shared.delete(key);
          });
          feed = created;
          shared.set(key, created);
        }
      } else {
        // Taken before the stream starts so that a full server answers 429 rather than an empty stream.
        const w = core.watch({
          prefixes: [prefix],
          ...(after === undefined ? {} : { after }),
          ...(epoch === undefined ? {} : { epoch }),
          ...(where === undefined ? {} : { where }),
        });
        feed = new Feed(w, ctx, () => undefined, true);
      }
    } catch (err) {
      ended = true;
      release();
      untrack?.();
      throw err;
    }
    feed.streams.add(stream);
    all.add(stream);
    unstop = http.onStop(end);
    if (auth.enabled && principal.kind === "token") unrevoke = auth.onRevoke(principal, end);
    fr.res.once("close", end);
    if (!fr.stream({ ...HEADERS, [INDEX_HEADER]: String(core.revision) })) {
      end();
      return;
    }
    fr.res.flushHeaders();
    if (heartbeat === undefined) {
      heartbeat = setInterval(beat, HEARTBEAT_MS);
      heartbeat.unref();
    }
  };
}
