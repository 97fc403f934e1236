// Register name and prefix rules: 1–256 characters of A-Z a-z 0-9 . _ - : /, '/' building a hierarchy.

import { isValidName, isValidPrefix } from "@switchboard/wire";
import { SwitchboardError } from "./errors.js";

export { isValidName, MAX_NAME_LENGTH } from "@switchboard/wire";

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
  if (!isValidPrefix(prefix)) {
    throw new SwitchboardError("INVALID_PREFIX", `invalid prefix ${JSON.stringify(prefix)}`);
  }
}
