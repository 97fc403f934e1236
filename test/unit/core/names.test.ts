// Register name and prefix rules: alphabet, length bounds, the empty prefix.

import { describe, expect, it } from "vitest";
import { assertName, assertPrefix, isValidName, MAX_NAME_LENGTH } from "../../../src/core/names.js";

const expectCode = (fn: () => void, code: string) => {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code });
    return;
  }
  expect.fail(`expected ${code}`);
};

describe("names", () => {
  it("accepts 1..256 characters of the name alphabet", () => {
    for (const n of ["a", "A-Z.a_z:0/9", "svc/db/primary", "x".repeat(MAX_NAME_LENGTH)]) {
      expect(isValidName(n)).toBe(true);
      expect(() => assertName(n)).not.toThrow();
    }
  });

  it("rejects empty, too long, foreign characters and non-strings", () => {
    for (const n of ["", "x".repeat(MAX_NAME_LENGTH + 1), "a b", "ä", "a*", "a\n", "a?b", 42, null, undefined]) {
      expect(isValidName(n)).toBe(false);
      expectCode(() => assertName(n), "INVALID_NAME");
    }
  });

  it("accepts the empty prefix and rejects bad ones", () => {
    expect(() => assertPrefix("")).not.toThrow();
    expect(() => assertPrefix("svc/")).not.toThrow();
    expect(() => assertPrefix("x".repeat(MAX_NAME_LENGTH))).not.toThrow();
    for (const p of ["x".repeat(MAX_NAME_LENGTH + 1), "a b", "*", 7])
      expectCode(() => assertPrefix(p), "INVALID_PREFIX");
  });
});
