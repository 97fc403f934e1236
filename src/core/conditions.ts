// Compare-and-set conditions (ifVersion / ifModRevision) checked under the write guards, all or nothing.

import { SwitchboardError } from "./errors.js";
import type { Register } from "./types.js";

/** A write's precondition on the register's current state; 0 means "must not exist". */
export interface Condition {
  readonly ifVersion?: number | undefined;
  readonly ifModRevision?: number | undefined;
}

/** One failed condition, as VERSION_CONFLICT's details name it (version 0 / modRevision 0: absent). */
export interface Conflict {
  readonly name: string;
  readonly version: number;
  readonly modRevision: number;
  readonly ifVersion?: number;
  readonly ifModRevision?: number;
}

/** Rejects malformed conditions before any guard is taken (the edge validates too; the core does not trust it). */
export function assertCondition(name: string, c: Condition): void {
  for (const [key, v] of [
    ["ifVersion", c.ifVersion],
    ["ifModRevision", c.ifModRevision],
  ] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
      throw new SwitchboardError("INVALID_BODY", `${key} of ${name} must be a non-negative integer`, {
        details: { name, [key]: v },
      });
    }
  }
}

export function hasCondition(c: Condition): boolean {
  return c.ifVersion !== undefined || c.ifModRevision !== undefined;
}

/** The conflict of one condition against the register's current state, or undefined when it holds. */
export function conflictOf(name: string, current: Register | undefined, c: Condition): Conflict | undefined {
  const version = current?.version ?? 0;
  const modRevision = current?.modRevision ?? 0;
  const versionOk = c.ifVersion === undefined || c.ifVersion === version;
  const revisionOk = c.ifModRevision === undefined || c.ifModRevision === modRevision;
  if (versionOk && revisionOk) return undefined;
  return {
    name,
    version,
    modRevision,
    ...(c.ifVersion === undefined ? {} : { ifVersion: c.ifVersion }),
    ...(c.ifModRevision === undefined ? {} : { ifModRevision: c.ifModRevision }),
  };
}

/** Checks every condition of a batch against the current state and throws one VERSION_CONFLICT naming each failure. */
export function checkConditions(
  items: Iterable<{ readonly name: string } & Condition>,
  lookup: (name: string) => Register | undefined,
): void {
  const conflicts: Conflict[] = [];
  for (const i of items) {
    if (!hasCondition(i)) continue;
    const conflict = conflictOf(i.name, lookup(i.name), i);
    if (conflict) conflicts.push(conflict);
  }
  if (conflicts.length === 0) return;
  const names = conflicts.map((c) => c.name).join(", ");
  throw new SwitchboardError("VERSION_CONFLICT", `condition failed for ${names}; nothing was applied`, {
    details: { conflicts },
  });
}
