// DeadlineHeap: ordering under set/refresh/delete (randomised against a sorted array) and exact due() answers.

import { describe, expect, it } from "vitest";
import { DeadlineHeap } from "../../../src/core/ttl-heap.js";
import { seededRandom } from "../../helpers/flush.js";

/** The reference model: a plain map, sorted on demand. */
function sortedModel(model: Map<string, number>): [string, number][] {
  return [...model].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
}

describe("DeadlineHeap", () => {
  it("sets, moves and deletes deadlines", () => {
    const h = new DeadlineHeap();
    expect(h.peek()).toBeUndefined();
    h.set("a", 30);
    h.set("b", 10);
    h.set("c", 20);
    expect(h.size).toBe(3);
    expect(h.peek()).toBe(10);
    h.set("b", 40); // refresh later
    expect(h.peek()).toBe(20);
    expect(h.get("b")).toBe(40);
    h.set("a", 5); // refresh earlier
    expect(h.peek()).toBe(5);
    expect(h.delete("a")).toBe(true);
    expect(h.delete("a")).toBe(false);
    expect(h.has("a")).toBe(false);
    expect(h.get("a")).toBeUndefined();
    expect(h.size).toBe(2);
    expect(h.peek()).toBe(20);
  });

  it("keeps the order of a sorted array under random set/refresh/delete (seeded)", () => {
    const random = seededRandom(0x5eed);
    const h = new DeadlineHeap();
    const model = new Map<string, number>();
    for (let step = 0; step < 5000; step++) {
      const name = `r${Math.floor(random() * 200)}`;
      const op = random();
      if (op < 0.55) {
        const at = Math.floor(random() * 10_000);
        h.set(name, at);
        model.set(name, at);
      } else if (op < 0.8) {
        expect(h.delete(name)).toBe(model.delete(name));
      } else {
        const now = Math.floor(random() * 10_000);
        const due = h.due(now);
        const expected = sortedModel(model)
          .filter(([, at]) => at <= now)
          .map(([n]) => n);
        expect(new Set(due)).toEqual(new Set(expected));
        expect(due.length).toBe(expected.length);
        // Earliest first (names with equal deadlines may come in any order).
        expect(due.map((n) => model.get(n))).toEqual(expected.map((n) => model.get(n)));
      }
      expect(h.size).toBe(model.size);
      const first = sortedModel(model)[0];
      expect(h.peek()).toBe(first?.[1]);
      if (model.has(name)) expect(h.get(name)).toBe(model.get(name));
    }
    // Drain in deadline order: the heap hands the minimum out every time.
    const drained: number[] = [];
    while (h.size > 0) {
      const at = h.peek()!;
      const [name] = h.due(at, 1);
      expect(h.get(name!)).toBe(at);
      h.delete(name!);
      drained.push(at);
    }
    expect(drained).toEqual(sortedModel(model).map(([, at]) => at));
  });

  it("due() returns exactly the due names, earliest first, and leaves them in the heap", () => {
    const h = new DeadlineHeap();
    const deadlines: [string, number][] = [
      ["a", 1],
      ["b", 5],
      ["c", 2],
      ["d", 6],
      ["e", 7],
      ["f", 3],
      ["g", 4],
      ["h", 9],
    ];
    for (const [n, at] of deadlines) h.set(n, at);
    const now = 5;
    const expected = deadlines
      .filter(([, at]) => at <= now)
      .sort((x, y) => x[1] - y[1])
      .map(([n]) => n);
    expect(h.due(now)).toEqual(expected);
    expect(h.due(0)).toEqual([]);
    expect(h.size).toBe(deadlines.length);
    const limited = h.due(now, 2);
    expect(limited).toHaveLength(2);
    for (const n of limited) expect(h.get(n)!).toBeLessThanOrEqual(now);
  });

  it("treats a deadline equal to now as due", () => {
    const h = new DeadlineHeap();
    h.set("x", 100);
    expect(h.due(99)).toEqual([]);
    expect(h.due(100)).toEqual(["x"]);
    expect(new DeadlineHeap().due(100)).toEqual([]);
  });
});
