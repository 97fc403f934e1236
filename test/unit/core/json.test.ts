// JSON helpers: structural equality ignoring key order, and UTF-8 sizes that match Buffer's.

import { describe, expect, it } from "vitest";
import { jsonEqual, jsonSize, utf8Length } from "../../../src/core/json.js";
import type { Json } from "../../../src/core/types.js";
import { seededRandom } from "../../helpers/flush.js";

describe("jsonEqual", () => {
  it("compares structurally and ignores object key order", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [1, 2])).toBe(true);
    expect(jsonEqual(null, null)).toBe(true);
  });

  it("tells different values apart", () => {
    const pairs: [Json, Json][] = [
      [1, "1"],
      [{ a: 1 }, { a: 2 }],
      [{ a: 1 }, { a: 1, b: 1 }],
      [{ a: undefined as unknown as Json }, { b: 1 }],
      [
        [1, 2],
        [2, 1],
      ],
      [[1], { 0: 1 }],
      [{ 0: 1 }, [1]],
      [null, {}],
      [[], [[]]],
      [0, false],
    ];
    for (const [a, b] of pairs) {
      expect(jsonEqual(a, b)).toBe(false);
      expect(jsonEqual(b, a)).toBe(false);
    }
  });
});

describe("utf8Length / jsonSize", () => {
  it("matches Buffer.byteLength for random strings, including astral and lone surrogates (seeded)", () => {
    const random = seededRandom(7);
    const pools = [
      [0x20, 0x7f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0xd800, 0xdfff], // lone surrogates: encoded as U+FFFD, 3 bytes
      [0xe000, 0xffff],
    ];
    for (let i = 0; i < 500; i++) {
      let s = "";
      const len = Math.floor(random() * 20);
      for (let j = 0; j < len; j++) {
        if (random() < 0.2) {
          s += String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
          continue;
        }
        const [lo, hi] = pools[Math.floor(random() * pools.length)]!;
        s += String.fromCharCode(lo! + Math.floor(random() * (hi! - lo! + 1)));
      }
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"));
    }
  });

  it("sizes a value by its serialisation", () => {
    const v: Json = { name: "é", list: [1, true, null] };
    expect(jsonSize(v)).toBe(Buffer.byteLength(JSON.stringify(v)));
    expect(jsonSize("")).toBe(2);
  });
});
