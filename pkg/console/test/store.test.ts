// The console's register store: listing pages and live events reconciled by revision, prefix ranges, change-request queues.

import { describe, expect, it } from "vitest";
import type { Reg } from "../src/api.js";
import { prefixRange, RegisterStore } from "../src/store.js";

const reg = (name: string, modRevision: number, value: Reg["value"] = modRevision): Reg => ({
  name,
  found: true,
  value,
  metadata: {},
  version: 1,
  createRevision: 1,
  modRevision,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  expiresAt: null,
});

describe("prefixRange", () => {
  const names = ["a", "a/b", "a/c", "a0", "b", "b/x"];
  it("finds the names starting with a prefix by binary search", () => {
    expect(prefixRange(names, "a/")).toEqual([1, 3]);
    expect(prefixRange(names, "a")).toEqual([0, 4]);
    expect(prefixRange(names, "")).toEqual([0, 6]);
    expect(prefixRange(names, "c")).toEqual([6, 6]);
    expect(prefixRange(names, "b/x/y")).toEqual([6, 6]);
  });
});

describe("RegisterStore", () => {
  it("keeps names sorted whether they arrive in order (pages) or not (events)", () => {
    const s = new RegisterStore();
    for (const n of ["a", "c", "e"]) s.upsert(reg(n, 1), false);
    s.upsert(reg("b", 2), true);
    s.upsert(reg("0", 3), true);
    expect(s.names).toEqual(["0", "a", "b", "c", "e"]);
    expect(s.changedAt.has("b")).toBe(true);
    expect(s.changedAt.has("a")).toBe(false);
  });

  it("does not let an older listing page overwrite a newer event, nor bring back a deleted register", () => {
    const s = new RegisterStore();
    s.upsert(reg("x", 10, "new"), true);
    s.upsert(reg("x", 5, "old"), false);
    expect(s.regs.get("x")?.value).toBe("new");
    s.remove("y", 12);
    s.upsert(reg("y", 8), false);
    expect(s.regs.has("y")).toBe(false);
    // Created again after the delete: it is back.
    s.upsert(reg("y", 13), true);
    expect(s.regs.has("y")).toBe(true);
    s.remove("y", 14);
    expect(s.names).toEqual(["x"]);
  });

  it("tells listeners what changed", () => {
    const s = new RegisterStore();
    const seen: string[] = [];
    s.subscribe((c) => seen.push(c.kind === "upsert" ? `${c.kind}:${c.name}:${c.created}` : c.kind));
    s.upsert(reg("a", 1), false);
    s.upsert(reg("a", 2), true);
    s.remove("a", 3);
    s.remove("a", 4);
    s.reset();
    expect(seen).toEqual(["upsert:a:true", "upsert:a:false", "remove", "reset"]);
  });

  it("tracks pending requests and moves them to handled on ack, whatever order the answers come in", () => {
    const s = new RegisterStore();
    const r = (id: number) => ({ id, name: "lamp", value: id, requestedAt: "2026-01-01T00:00:00.000Z" });
    s.addRequest(r(1));
    s.addRequest(r(2));
    s.addRequest(r(2));
    expect(s.pending.get("lamp")?.map((x) => x.id)).toEqual([1, 2]);
    s.ack("lamp", 1, "acknowledged", 20);
    expect(s.pending.get("lamp")?.map((x) => x.id)).toEqual([2]);
    expect(s.handled.get("lamp")?.map((h) => [h.request.id, h.reason])).toEqual([[1, "acknowledged"]]);
    // GET /provider answered before the ack was applied on the server: request 1 must not come back.
    s.setPending("lamp", [r(1), r(2), r(3)]);
    expect(s.pending.get("lamp")?.map((x) => x.id)).toEqual([2, 3]);
    s.addRequest(r(1));
    expect(s.pending.get("lamp")?.map((x) => x.id)).toEqual([2, 3]);
    s.ack("lamp", 3, "deleted", 21);
    expect(s.pending.has("lamp")).toBe(false);
    expect(s.handled.get("lamp")?.map((h) => h.reason)).toEqual(["deleted", "deleted", "acknowledged"]);
    // A reload (resync) starts the queues afresh: they are read again with the registers.
    s.addRequest(r(4));
    s.reset();
    expect(s.pending.size).toBe(0);
  });
});
