// EventRing: since() and covers() before and after wrap-around, and forgetUpTo after a snapshot load.

import { describe, expect, it } from "vitest";
import { EventRing } from "../../../src/core/event-ring.js";
import type { SwitchboardEvent } from "../../../src/core/types.js";

function ev(revision: number): SwitchboardEvent {
  return { type: "delete", name: `r${revision}`, revision };
}

const revisions = (it: Iterable<SwitchboardEvent>) => [...it].map((e) => e.revision);

describe("EventRing", () => {
  it("rejects a capacity below 1", () => {
    expect(() => new EventRing(0)).toThrow(RangeError);
    expect(() => new EventRing(1.5)).toThrow(RangeError);
  });

  it("answers since() in revision order before it is full", () => {
    const ring = new EventRing(5);
    for (let r = 1; r <= 3; r++) ring.push(ev(r));
    expect(ring.size).toBe(3);
    expect(revisions(ring.since(0))).toEqual([1, 2, 3]);
    expect(revisions(ring.since(2))).toEqual([3]);
    expect(revisions(ring.since(3))).toEqual([]);
    expect(ring.covers(0)).toBe(true);
  });

  it("keeps the newest events across wrap-around and knows what it lost", () => {
    const capacity = 4;
    const ring = new EventRing(capacity);
    const last = 11;
    for (let r = 1; r <= last; r++) ring.push(ev(r));
    expect(ring.size).toBe(capacity);
    const oldestKept = last - capacity + 1;
    // Resuming from oldestKept - 1 still gets everything after it; one earlier does not.
    expect(ring.covers(oldestKept - 1)).toBe(true);
    expect(ring.covers(oldestKept - 2)).toBe(false);
    expect(ring.covers(0)).toBe(false);
    expect(revisions(ring.since(oldestKept - 1))).toEqual([8, 9, 10, 11]);
    expect(revisions(ring.since(9))).toEqual([10, 11]);
    expect(revisions(ring.since(last))).toEqual([]);
  });

  it("finds the first event after a revision with gaps, at every rotation", () => {
    for (let shift = 0; shift < 6; shift++) {
      const ring = new EventRing(6);
      const revs: number[] = [];
      let r = 0;
      for (let i = 0; i < 6 + shift; i++) {
        r += 1 + (i % 3); // gaps of 0, 1 and 2
        ring.push(ev(r));
        revs.push(r);
      }
      const kept = revs.slice(-6);
      for (let after = kept[0]! - 1; after <= r + 1; after++) {
        expect(revisions(ring.since(after))).toEqual(kept.filter((x) => x > after));
      }
    }
  });

  it("forgetUpTo marks older revisions as unavailable and never moves back", () => {
    const ring = new EventRing(10);
    ring.forgetUpTo(42);
    expect(ring.covers(41)).toBe(false);
    expect(ring.covers(42)).toBe(true);
    ring.forgetUpTo(10);
    expect(ring.covers(41)).toBe(false);
    ring.push(ev(43));
    expect(revisions(ring.since(42))).toEqual([43]);
  });
});
