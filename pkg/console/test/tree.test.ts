// The register tree: counts by `/` segment, names that are also folders, pruning, and rows only for open folders.

import { describe, expect, it } from "vitest";
import { RegisterTree } from "../src/tree.js";

const labels = (t: RegisterTree) => t.rows().map((r) => `${"  ".repeat(r.node.depth)}${r.node.label}:${r.node.count}`);

describe("RegisterTree", () => {
  it("counts registers per subtree and sorts siblings", () => {
    const t = new RegisterTree(["b/x", "a/2", "a/1", "a", "a/1/deep"]);
    expect(t.size).toBe(5);
    expect(labels(t)).toEqual(["a:4", "  1:2", "    deep:1", "  2:1", "b:1", "  x:1"]);
    expect(t.find("a")?.hasRegister).toBe(true);
    expect(t.find("a/1")?.hasRegister).toBe(true);
  });

  it("ignores a second insert of the same name", () => {
    const t = new RegisterTree(["a/b"]);
    t.insert("a/b");
    expect(t.size).toBe(1);
    expect(t.find("a")?.count).toBe(1);
  });

  it("removes a name, prunes empty folders and keeps a folder that is still a register", () => {
    const t = new RegisterTree(["a", "a/b/c", "z"]);
    t.remove("a/b/c");
    expect(t.find("a/b")).toBeUndefined();
    expect(t.find("a")).toMatchObject({ count: 1, hasRegister: true });
    t.remove("a");
    expect(t.find("a")).toBeUndefined();
    t.remove("never");
    expect(t.size).toBe(1);
  });

  it("keeps large folders closed until opened, and never materialises rows below a closed one", () => {
    const names = Array.from({ length: 1000 }, (_, i) => `big/${String(i).padStart(4, "0")}`);
    const t = new RegisterTree([...names, "small/a"]);
    expect(labels(t)).toEqual(["big:1000", "small:1", "  a:1"]);
    t.choices.set("big", true);
    expect(t.rows()).toHaveLength(1003);
    t.choices.set("small", false);
    expect(t.rows()).toHaveLength(1002);
  });

  it("reveals a register by opening its folders", () => {
    const names = Array.from({ length: 300 }, (_, i) => `x/y/${i}`);
    const t = new RegisterTree(names);
    expect(t.rows().map((r) => r.node.path)).toEqual(["x"]);
    t.reveal("x/y/7");
    expect(t.rows().some((r) => r.node.path === "x/y/7")).toBe(true);
  });
});
