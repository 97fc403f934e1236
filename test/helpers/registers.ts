// Builders of registers and set mutations for storage tests.

import type { Json, Mutation, Register } from "../../src/core/types.js";

/** A register at `revision` (created and modified there, version 1) unless `extra` says otherwise. */
export function reg(name: string, value: Json, revision: number, extra: Partial<Register> = {}): Register {
  return {
    name,
    value,
    metadata: {},
    createRevision: revision,
    modRevision: revision,
    version: 1,
    createdAt: 1_000 + revision,
    updatedAt: 1_000 + revision,
    expiresAt: null,
    ...extra,
  };
}

/** The set mutation that writes `r`. */
export const set = (r: Register): Mutation => ({ type: "set", name: r.name, revision: r.modRevision, register: r });
