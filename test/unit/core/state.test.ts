// RegisterState: replay of mutations (skipping overlap), snapshots, FIFO queues and sorted prefix listing.

import { describe, expect, it } from "vitest";
import { RegisterState } from "../../../src/core/state.js";
import type { ChangeRequest, Mutation, Register } from "../../../src/core/types.js";

function reg(name: string, revision: number, expiresAt: number | null = null): Register {
  return {
    name,
    value: revision,
    metadata: {},
    createRevision: revision,
    modRevision: revision,
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    expiresAt,
  };
}

function req(id: number, name: string): ChangeRequest {
  return { id, name, value: id, requestedAt: 0 };
}

const history: Mutation[] = [
  { type: "set", name: "a", revision: 1, register: reg("a", 1, 500) },
  { type: "set", name: "b", revision: 2, register: reg("b", 2) },
  { type: "request", name: "a", revision: 3, request: req(1, "a") },
  { type: "request", name: "a", revision: 4, request: req(2, "a") },
  { type: "refresh", name: "a", expiresAt: 900 },
  { type: "request", name: "b", revision: 5, request: req(3, "b") },
  { type: "ack", name: "a", revision: 6, upTo: 1, reason: "acknowledged" },
  { type: "set", name: "c", revision: 7, register: reg("c", 7, 100) },
  { type: "expire", name: "c", revision: 8 },
];

function replay(ms: readonly Mutation[], into = new RegisterState()): RegisterState {
  for (const m of ms) into.apply(m);
  return into;
}

describe("RegisterState", () => {
  it("replays mutations into registers, deadlines and FIFO queues", () => {
    const st = replay(history);
    expect(st.revision).toBe(8);
    expect(st.lastRequestId).toBe(3);
    expect([...st.registers.keys()].sort()).toEqual(["a", "b"]);
    expect(st.registers.get("a")!.expiresAt).toBe(900);
    expect(st.deadlines.get("a")).toBe(900);
    expect(st.deadlines.has("c")).toBe(false);
    expect(st.queues.get("a")!.map((r) => r.id)).toEqual([2]);
    expect(st.queuedRequests).toBe(2);
  });

  it("skips events at or below its revision (log overlapping a snapshot)", () => {
    const st = replay(history);
    const again = replay(history, st);
    expect(again.queuedRequests).toBe(2);
    expect(again.revision).toBe(8);
    expect(again.queues.get("a")!.map((r) => r.id)).toEqual([2]);
  });

  it("round-trips through a snapshot", () => {
    const st = replay(history);
    const copy = RegisterState.fromSnapshot(structuredClone(st.snapshot()));
    expect(copy.revision).toBe(st.revision);
    expect(copy.lastRequestId).toBe(st.lastRequestId);
    expect(copy.registers).toEqual(st.registers);
    expect(copy.queues).toEqual(st.queues);
    expect(copy.queuedRequests).toBe(st.queuedRequests);
    expect(copy.deadlines.get("a")).toBe(900);
    expect(copy.sortedNames()).toEqual(["a", "b"]);
  });

  it("drops a queue once its last request is acknowledged", () => {
    const st = replay(history);
    st.apply({ type: "ack", name: "a", revision: 9, upTo: 2, reason: "acknowledged" });
    st.apply({ type: "ack", name: "b", revision: 10, upTo: 99, reason: "deleted" });
    expect(st.queues.size).toBe(0);
    expect(st.queuedRequests).toBe(0);
  });

  it("lists names under a prefix in order, after a cursor", () => {
    const st = new RegisterState();
    const names = ["svc/b", "svc/a", "svc", "svd/x", "sva", "svc/c/1", "other"];
    names.forEach((n, i) => {
      st.apply({ type: "set", name: n, revision: i + 1, register: reg(n, i + 1) });
    });
    const under = names.filter((n) => n.startsWith("svc/")).sort();
    expect([...st.namesWithPrefix("svc/")]).toEqual(under);
    expect([...st.namesWithPrefix("svc/", under[0])]).toEqual(under.slice(1));
    expect([...st.namesWithPrefix("svc/", "svc/bb")]).toEqual(under.filter((n) => n > "svc/bb"));
    expect([...st.namesWithPrefix("svc/", "a")]).toEqual(under); // cursor before the prefix
    expect([...st.namesWithPrefix("")]).toEqual([...names].sort());
    st.apply({ type: "delete", name: "svc/a", revision: 100 });
    expect([...st.namesWithPrefix("svc/")]).toEqual(under.filter((n) => n !== "svc/a"));
  });
});
