// BackendStore on a real core with a fake clock: BackendInfo fields, Unix-second times, the file merge and its priorities.

import { afterEach, describe, expect, it } from "vitest";
import { BackendStore, type FileBackend } from "../../../src/protocols/jsonrpc/backends.js";
import { type Board, openBoard } from "../core/fixture.js";

let board: Board | undefined;
afterEach(async () => {
  await board?.sb.close();
  board = undefined;
});

async function open(): Promise<{ store: BackendStore; b: Board }> {
  board = await openBoard();
  return { store: new BackendStore(board.sb), b: board };
}

const entry = (name: string, host: string, extra: Partial<FileBackend> = {}): FileBackend => ({
  name,
  host,
  port: 4444,
  protocol: "ws",
  ...extra,
});

describe("BackendStore", () => {
  it("registers with Unix-second times from the injected clock and no null optionals", async () => {
    const { store, b } = await open();
    const at = Math.floor(b.clock.now() / 1000);
    const backend = await store.register("dev", { host: "h", port: 1, protocol: "ws" }, "manual");
    expect(backend).toEqual({
      id: expect.any(String),
      name: "dev",
      host: "h",
      port: 1,
      protocol: "ws",
      source: "manual",
      is_active: true,
      registered_at: at,
      created_at: at,
      updated_at: at,
    });
    expect(b.sb.get("backends/dev")?.value).toEqual(backend);

    b.clock.advance(5000);
    const pinged = await store.ping("dev");
    expect(pinged).toMatchObject({ last_seen: at + 5, updated_at: at });
    expect(await store.ping("nobody")).toBeNull();
    const updated = await store.update("dev", { port: 2, description: "d" });
    expect(updated).toMatchObject({ port: 2, description: "d", updated_at: at + 5, last_seen: at + 5 });
  });

  it("lists newest first and skips registers under backends/ that are not backends", async () => {
    const { store, b } = await open();
    await store.register("old", { host: "h", port: 1, protocol: "ws" }, "manual");
    b.clock.advance(2000);
    await store.register("new", { host: "h", port: 1, protocol: "ws" }, "manual");
    await b.sb.set([{ name: "backends/junk", value: { not: "a backend" } }]);
    expect(store.list(true).map((x) => x.name)).toEqual(["new", "old"]);
    expect(store.get("junk")).toBeNull();
    // A foreign register still occupies the name.
    await expect(store.register("junk", { host: "h", port: 1, protocol: "ws" }, "manual")).rejects.toMatchObject({
      code: "BACKEND_EXISTS",
    });
  });

  it("merges the file: adds, updates in place, removes only what came from the file", async () => {
    const { store, b } = await open();
    await store.register("manual", { host: "m", port: 1, protocol: "ws" }, "manual");
    const first = await store.mergeFile([entry("a", "1", { description: "x" }), entry("b", "2"), entry("manual", "f")]);
    expect(first).toEqual({ applied: 2, added: ["a", "b"], updated: [], removed: [], shadowed: ["manual"] });
    const aId = store.get("a")!.id;

    const revision = b.sb.revision;
    const same = await store.mergeFile([entry("a", "1", { description: "x" }), entry("b", "2")]);
    expect(same).toEqual({ applied: 2, added: [], updated: [], removed: [], shadowed: [] });
    expect(b.sb.revision).toBe(revision); // nothing written

    b.clock.advance(3000);
    const second = await store.mergeFile([entry("a", "1b")]);
    expect(second).toEqual({ applied: 1, added: [], updated: ["a"], removed: ["b"], shadowed: [] });
    const a = store.get("a")!;
    expect(a.id).toBe(aId);
    expect(a).not.toHaveProperty("description");
    expect(a.updated_at).toBe(a.created_at + 3);
    expect(store.get("manual")).toMatchObject({ host: "m", source: "manual" });

    // A runtime update takes the backend over; the file then leaves it alone.
    await store.update("a", { port: 9 });
    expect(store.get("a")?.source).toBe("manual");
    expect(await store.mergeFile([])).toEqual({ applied: 0, added: [], updated: [], removed: [], shadowed: [] });
    expect(store.get("a")).toMatchObject({ port: 9, source: "manual" });
  });

  it("answers update and delete of an unknown name with BACKEND_NOT_FOUND and the Plexus message", async () => {
    const { store } = await open();
    await expect(store.update("ghost", { port: 1 })).rejects.toMatchObject({
      code: "BACKEND_NOT_FOUND",
      message: "Backend not found: ghost",
    });
    await expect(store.delete("ghost")).rejects.toMatchObject({ code: "BACKEND_NOT_FOUND" });
  });

  it("serialises a ping and an update of one backend so neither is lost", async () => {
    const { store, b } = await open();
    await store.register("dev", { host: "h", port: 1, protocol: "ws" }, "manual");
    b.clock.advance(1000);
    await Promise.all([store.ping("dev"), store.update("dev", { host: "h2" }), store.ping("dev")]);
    expect(store.get("dev")).toMatchObject({ host: "h2", last_seen: expect.any(Number) });
  });
});
