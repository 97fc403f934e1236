// The regex guard refuses patterns that can backtrack exponentially and lets ordinary ones through.

import { expect, it } from "vitest";
import { unsafeRegexReason } from "../../../src/services/regex-guard.js";

it("refuses nested quantifiers, quantified alternations and backreferences", () => {
  for (const p of [
    "(a+)+$",
    "(a*)*",
    "(a|aa)*b",
    "([a-z]+)*x",
    "(\\w+\\s?)+$",
    "((ab)+)+",
    "(a{1,3}){2,}",
    "(a)\\1",
    "(?<x>a)\\k<x>",
  ]) {
    expect(unsafeRegexReason(p), p).not.toBeNull();
  }
});

it("accepts ordinary patterns, including quantifiers inside classes and single-level groups", () => {
  for (const p of [
    "openai",
    "^host-\\d+\\.example",
    "(ab)+",
    "(a|b)",
    "[(+)]+",
    "a{2,5}",
    "\\(a+\\)+",
    "^(https?)://",
    "(a+)?",
  ]) {
    expect(unsafeRegexReason(p), p).toBeNull();
  }
});

it("refuses long patterns", () => {
  expect(unsafeRegexReason("a".repeat(513))).toMatch(/longer than 512/);
  expect(unsafeRegexReason("a".repeat(20), 10)).toMatch(/longer than 10/);
});
