// The watches of one connection: core.watch streams turned into change notifications, ended by unwatch or disconnect.

import { assertPrefix, type Switchboard, SwitchboardError } from "../../core/index.js";
import type { WatchItem } from "../../core/watch.js";
import { validateParams, WATCH_PARAMS } from "./methods.js";

/** A register change as watch notifications carry it (request/ack events are not register changes: null). */
export function changeOf(item: WatchItem): unknown {
  if (item.type !== "event") return { type: item.type, index: item.index };
  const e = item.event;
  if (e.type === "set") {
    const r = e.register;
    return {
      type: "set",
      name: e.name,
      revision: e.revision,
      value: r.value,
      metadata: r.metadata,
      version: r.version,
    };
  }
  if (e.type === "delete" || e.type === "expire") return { type: e.type, name: e.name, revision: e.revision };
  return null;
}

export class Watches {
  readonly #core: Switchboard;
  readonly #max: number;
  readonly #open = new Map<number, AbortController>();

  constructor(core: Switchboard, maxPerConnection: number) {
    this.#core = core;
    this.#max = maxPerConnection;
  }

  get size(): number {
    return this.#open.size;
  }

  /**
   * Opens the stream now, so no change between the answer and the first notification is lost
   * and a full server refuses before an id is handed out. Returns the loop that delivers it,
   * to be started once the subscription id is on the wire.
   */
  open(sub: number, rawParams: unknown, emit: (change: unknown) => void, onCut?: (index: number) => void): () => void {
    const p = validateParams(WATCH_PARAMS, rawParams);
    assertPrefix(p.prefix);
    if (this.#open.size >= this.#max) {
      throw new SwitchboardError("TOO_MANY_WAITERS", `at most ${this.#max} watches per connection`, { retryAfter: 1 });
    }
    const ac = new AbortController();
    const stream = this.#core.watch({
      prefixes: [p.prefix],
      signal: ac.signal,
      ...(p.after === undefined ? {} : { after: p.after }),
    });
    this.#open.set(sub, ac);
    return () => {
      void (async () => {
        try {
          for await (const item of stream) {
            const change = changeOf(item);
            if (change !== null) emit(change);
            if (item.type === "cut") onCut?.(item.index);
          }
        } finally {
          this.#open.delete(sub);
        }
      })();
    };
  }

  /** True when `sub` was an open watch (now ended). */
  end(sub: number): boolean {
    const ac = this.#open.get(sub);
    ac?.abort();
    return ac !== undefined;
  }

  endAll(): void {
    for (const ac of this.#open.values()) ac.abort();
    this.#open.clear();
  }
}
