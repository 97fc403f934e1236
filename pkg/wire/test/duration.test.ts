// The duration grammar, by examples and by properties: what formatDuration writes, parseDuration reads back.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DurationError, formatDuration, parseDuration } from "#wire";

describe("parseDuration", () => {
  it.each([
    [30, 30_000],
    ["30", 30_000],
    ["1.5", 1500],
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1h2m3s4ms", 3_723_004],
    [" 2s ", 2000],
    ["0", 0],
    ["0.0005s", 1],
    ["0.0004s", 1],
    [0.0015, 2],
  ] as const)("%j → %i ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    -1,
    "",
    "soon",
    "5x",
    "1m x",
    "ms",
    "-5s",
    "1e3s",
    "Infinity",
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    {},
    [],
    "9".repeat(40),
  ])("refuses %j with a DurationError", (input) => {
    expect(() => parseDuration(input)).toThrow(DurationError);
  });

  it("reads back what formatDuration writes, for any whole number of ms", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * 24 * 3600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it("adds up its parts, whatever their order, and agrees with the number of seconds", () => {
    const part = fc.record({ n: fc.integer({ min: 0, max: 999 }), unit: fc.constantFrom("ms", "s", "m", "h") });
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map((p) => `${p.n}${p.unit}`).join("");
        const want = parts.reduce((sum, p) => sum + p.n * factor[p.unit], 0);
        expect(parseDuration(text)).toBe(want);
        expect(parseDuration(want / 1000)).toBe(want);
      }),
    );
  });

  it("never throws anything but a DurationError and never returns a negative or fractional result", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.anything()), (input) => {
        try {
          const ms = parseDuration(input);
          expect(Number.isInteger(ms) && ms >= 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(DurationError);
        }
      }),
    );
  });
});
