// Watch backlog replay: any backlog length (a million events) replays by index, in order, before live events.

import { describe, expect, it } from "vitest";
import type { SwitchboardEvent } from "../../../src/core/types.js";
import { Watch, type WatchSource } from "../../../src/core/watch.js";

function source(backlog: SwitchboardEvent[]) {
  const listeners = new Set<(e: SwitchboardEvent) => void>();
  let tracked = 0;
  const src: WatchSource = {
    revision: backlog.length,
    epoch: "test-epoch",
    closing: false,
    eventsSince: (index) => backlog.slice(index),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    track() {
      tracked += 1;
      return () => {
        tracked -= 1;
      };
    },
  };
  const emit = (e: SwitchboardEvent) => {
    for (const l of listeners) l(e);
  };
  return { src, emit, tracked: () => tracked };
}

const del = (revision: number, name = `r/${revision % 7}`): SwitchboardEvent => ({ type: "delete", name, revision });

describe("watch backlog replay", () => {
  it("replays 1,000,000 events in order without copying them into the buffer", async () => {
    const N = 1_000_000;
    const backlog = Array.from({ length: N }, (_, i) => del(i + 1));
    const s = source(backlog);
    const watch = new Watch(s.src, { after: 0, maxBuffer: 10 });
    expect(watch.buffered).toBe(N);
    // Live events while the backlog replays are buffered apart and come after it; ten of them do not cut.
    for (let i = 1; i <= 5; i++) s.emit(del(N + i));
    let count = 0;
    let last = 0;
    for await (const item of watch) {
      if (item.type !== "event") throw new Error(`unexpected ${item.type}`);
      if (item.event.revision !== last + 1) throw new Error(`revision ${item.event.revision} after ${last}`);
      last = item.event.revision;
      count += 1;
      if (count === N + 5) break;
    }
    expect(count).toBe(N + 5);
    expect(s.tracked()).toBe(0);
  });

  it("skips backlog events outside the selection and counts down what is left", async () => {
    const s = source([del(1, "a/1"), del(2, "b/1"), del(3, "a/2")]);
    const watch = new Watch(s.src, { after: 0, prefixes: ["a/"] });
    const first = await watch.next();
    expect(first.value).toMatchObject({ type: "event", event: { name: "a/1" } });
    const second = await watch.next();
    expect(second.value).toMatchObject({ type: "event", event: { name: "a/2" } });
    expect(watch.buffered).toBe(0);
    await watch.return();
  });

  it("a cut drops the rest of the backlog with the live buffer", async () => {
    const s = source(Array.from({ length: 100 }, (_, i) => del(i + 1)));
    const watch = new Watch(s.src, { after: 0, maxBuffer: 2 });
    await watch.next();
    for (let i = 1; i <= 3; i++) s.emit(del(100 + i));
    const items = [];
    for await (const item of watch) items.push(item);
    expect(items).toEqual([{ type: "cut", index: 1 }]);
    expect(s.tracked()).toBe(0);
  });
});
