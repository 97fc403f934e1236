// The code list of @switchboard/wire: upper-snake codes, each with a kind and a description; isErrorCode knows them.

import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode } from "#wire";

describe("ERROR_CODES", () => {
  it("are upper-snake codes with a kind and a description", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(entry.description.length).toBeGreaterThan(10);
    }
  });

  it("isErrorCode accepts the listed codes only, not inherited keys", () => {
    expect(isErrorCode("VERSION_CONFLICT")).toBe(true);
    expect(isErrorCode("HTTP_502")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("constructor")).toBe(false);
  });
});
