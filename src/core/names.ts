// Register name and prefix rules: 1–256 characters of A-Z a-z 0-9 . _ - : /, '/' building a hierarchy.

import { SwitchboardError } from "./errors.js";

export const MAX_NAME_LENGTH = 256;
const NAME_RE = /^[A-Za-z0-9._\-:/]{1,256}$/;
const PREFIX_RE = /^[A-Za-z0-9._\-:/]{0,256}$/;

export function isValidName(name: unknown): name is string {
  return typeof name === "string" && NAME_RE.test(name);
}

export function assertName(name: unknown): asserts name is string {
  if (!isValidName(name)) {
    throw new SwitchboardError(
      "INVALID_NAME",
      `invalid register name ${JSON.stringify(typeof name === "string" ? name.slice(0, 300) : name)}: use 1-256 characters of A-Z a-z 0-9 . _ - : /`,
    );
  }
}

/** A prefix may be empty (everything). */
export function assertPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== "string" || !PREFIX_RE.test(prefix)) {
    throw new SwitchboardError("INVALID_PREFIX", `invalid prefix ${JSON.stringify(prefix)}`);
  }
}
