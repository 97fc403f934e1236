// CGSE registry events (register, deregister, expire) from the core's watch of services/, for the PUB socket.

import type { Logger } from "pino";
import type { JsonObject, Switchboard, SwitchboardEvent } from "../../core/index.js";
import { SERVICES_PREFIX } from "../../services/discovery.js";
import { toService } from "../../services/index.js";
import { toServiceInfo } from "./records.js";

/** One event as the PUB socket sends it: frames [type, json]. */
export interface CgseEvent {
  readonly type: "register" | "deregister" | "expire";
  readonly json: string;
}

/**
 * Follows services/ and turns every change into the CGSE event, whichever protocol made it: a
 * set is `register`, a delete `deregister`, a lapsed lease `expire`. A delete event carries only
 * the name, so the `deregister` action hands over the record it is removing (`expect`); a
 * service removed by another protocol is described by its id and type alone.
 */
export class EventFeed {
  readonly #core: Switchboard;
  readonly #log: Logger;
  readonly #send: (e: CgseEvent) => void;
  readonly #abort = new AbortController();
  /** Records of deregistrations in flight, by register name: handed over by the action, taken by the feed. */
  readonly #leaving = new Map<string, JsonObject>();
  #running: Promise<void> | undefined;
  #live = false;

  constructor(core: Switchboard, log: Logger, send: (e: CgseEvent) => void) {
    this.#core = core;
    this.#log = log;
    this.#send = send;
  }

  start(): void {
    this.#live = true;
    this.#running = this.#run().finally(() => {
      this.#live = false;
      this.#leaving.clear();
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    this.#leaving.clear();
  }

  /** Registers what a deregistration removes; the returned function withdraws it when no delete follows. */
  expect(name: string, record: JsonObject): () => void {
    // Only a running feed takes entries out again; a stopped one must not collect them.
    if (!this.#live) return () => undefined;
    this.#leaving.set(name, record);
    return () => {
      if (this.#leaving.get(name) === record) this.#leaving.delete(name);
    };
  }

  async #run(): Promise<void> {
    let after: number | undefined;
    // A watch ends when its consumer falls too far behind (cut) or the core closes; after a cut it resumes.
    while (!this.#abort.signal.aborted && !this.#core.closing) {
      let resumeAt: number | undefined;
      try {
        const watch = this.#core.watch({
          prefixes: [SERVICES_PREFIX],
          signal: this.#abort.signal,
          ...(after === undefined ? {} : { after }),
        });
        for await (const item of watch) {
          if (item.type === "cut") {
            resumeAt = item.index;
            this.#log.warn({ index: item.index }, "event feed fell behind; resuming");
          } else if (item.type === "resync") {
            this.#log.warn({ index: item.index }, "service events were lost to the event ring; continuing");
          } else {
            this.#publish(item.event);
          }
        }
      } catch (err) {
        // The watch refuses to start when the waiter limit is reached or the core is closing.
        this.#log.warn({ err }, "event feed could not follow services/");
        return;
      }
      if (resumeAt === undefined) return;
      after = resumeAt;
    }
  }

  #publish(e: SwitchboardEvent): void {
    const rest = e.name.slice(SERVICES_PREFIX.length);
    const slash = rest.indexOf("/");
    if (slash <= 0) return;
    const type = rest.slice(0, slash);
    const id = rest.slice(slash + 1);
    const timestamp = Math.floor(this.#core.clock.now() / 1000);
    let event: { type: CgseEvent["type"]; data: JsonObject } | undefined;
    if (e.type === "set") {
      const s = toService(e.register);
      if (s) event = { type: "register", data: { service_id: s.id, service_info: toServiceInfo(s) } };
    } else if (e.type === "delete") {
      const record = this.#leaving.get(e.name) ?? { id, type };
      this.#leaving.delete(e.name);
      event = { type: "deregister", data: { service_id: id, service_info: record } };
    } else if (e.type === "expire") {
      this.#leaving.delete(e.name);
      event = { type: "expire", data: { service_id: id } };
    }
    if (event)
      this.#send({ type: event.type, json: JSON.stringify({ type: event.type, timestamp, data: event.data }) });
  }
}
