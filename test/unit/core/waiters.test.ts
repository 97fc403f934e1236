// WaiterIndex: name and prefix matches, each waiter once, and complete cleanup on remove.

import { describe, expect, it } from "vitest";
import { type Waiter, WaiterIndex } from "../../../src/core/waiters.js";

function waiter(names: string[], prefixes: string[] = []): Waiter {
  return { names, prefixes, detach: () => true, claim: () => true, deliver: () => undefined };
}

describe("WaiterIndex", () => {
  it("matches by exact name only", () => {
    const idx = new WaiterIndex();
    const w = waiter(["svc/a"]);
    idx.add(w);
    expect([...idx.match("svc/a")]).toEqual([w]);
    expect(idx.match("svc/ab").size).toBe(0);
    expect(idx.match("svc/").size).toBe(0);
  });

  it("matches by prefix, and the empty prefix matches everything", () => {
    const idx = new WaiterIndex();
    const svc = waiter([], ["svc/"]);
    const all = waiter([], [""]);
    const deep = waiter([], ["svc/db/"]);
    idx.add(svc);
    idx.add(all);
    idx.add(deep);
    expect(idx.match("svc/db/1")).toEqual(new Set([svc, all, deep]));
    expect(idx.match("svc/web")).toEqual(new Set([svc, all]));
    expect(idx.match("other")).toEqual(new Set([all]));
    expect(idx.match("svc")).toEqual(new Set([all])); // shorter than the prefix
  });

  it("returns each waiter once even when several of its names and prefixes match", () => {
    const idx = new WaiterIndex();
    const w = waiter(["a/b"], ["a/", "a/b", ""]);
    idx.add(w);
    expect([...idx.match("a/b")]).toEqual([w]);
    expect(idx.size).toBe(1);
  });

  it("remove() cleans every entry, so later events match nothing", () => {
    const idx = new WaiterIndex();
    const a = waiter(["x", "y"], ["p/", ""]);
    const b = waiter(["x"], ["p/"]);
    idx.add(a);
    idx.add(b);
    expect(idx.size).toBe(2);
    idx.remove(a);
    expect(idx.size).toBe(1);
    expect(idx.match("y").size).toBe(0);
    expect(idx.match("zzz").size).toBe(0); // the "" prefix went with a
    expect(idx.match("x")).toEqual(new Set([b]));
    expect(idx.match("p/1")).toEqual(new Set([b]));
    idx.remove(b);
    expect(idx.size).toBe(0);
    for (const n of ["x", "y", "p/1", "anything"]) expect(idx.match(n).size).toBe(0);
    expect(idx.all().size).toBe(0);
  });

  it("keeps a prefix length probed while another prefix of that length remains", () => {
    const idx = new WaiterIndex();
    const a = waiter([], ["ab"]);
    const b = waiter([], ["cd"]);
    idx.add(a);
    idx.add(b);
    idx.remove(a);
    expect(idx.match("cdx")).toEqual(new Set([b]));
    expect(idx.match("abx").size).toBe(0);
  });

  it("all() lists every waiter once", () => {
    const idx = new WaiterIndex();
    const ws = [waiter(["a"]), waiter([], ["b"]), waiter(["c"], ["c"])];
    for (const w of ws) idx.add(w);
    expect(idx.all()).toEqual(new Set(ws));
  });
});
