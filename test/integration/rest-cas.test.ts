// Compare-and-set over REST: conditional PUT/DELETE /provider and PUT /consumer, 409 VERSION_CONFLICT, racing writers.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, startTestServer, type TestServer } from "../helpers/server.js";

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.dispose();
});

const call = (method: string, path: string, body?: unknown) => callJson(srv.url, method, path, body);

describe("conditional writes", () => {
  it("ifVersion 0 creates only; a stale ifVersion answers 409 naming the current version and modRevision", async () => {
    const created = await call("PUT", "/provider", { name: "cas/a", value: 1, ifVersion: 0 });
    expect(created.status).toBe(200);
    const again = await call("PUT", "/provider", { name: "cas/a", value: 2, ifVersion: 0 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("VERSION_CONFLICT");
    expect(again.body.error.details.conflicts).toEqual([
      { name: "cas/a", version: 1, modRevision: created.body.registers[0].modRevision, ifVersion: 0 },
    ]);
    const ok = await call("PUT", "/provider", { name: "cas/a", value: 2, ifVersion: 1 });
    expect(ok.body.registers[0].version).toBe(2);
    const byRev = await call("PUT", "/provider", {
      name: "cas/a",
      value: 3,
      ifModRevision: ok.body.registers[0].modRevision,
    });
    expect(byRev.status).toBe(200);
  });

  it("a batch with one stale condition changes nothing", async () => {
    await call("PUT", "/provider", {
      registers: [
        { name: "cas/b1", value: 1 },
        { name: "cas/b2", value: 1 },
      ],
    });
    await call("PUT", "/provider", { name: "cas/b2", value: 2 });
    const before = await call("GET", "/consumer?prefix=cas/b");
    const r = await call("PUT", "/provider", {
      registers: [
        { name: "cas/b1", value: 9, ifVersion: 1 },
        { name: "cas/b2", value: 9, ifVersion: 1 },
        { name: "cas/b3", value: 9 },
      ],
    });
    expect(r.status).toBe(409);
    expect(r.body.error.details.conflicts.map((c: { name: string }) => c.name)).toEqual(["cas/b2"]);
    const after = await call("GET", "/consumer?prefix=cas/b");
    expect(after.body.index).toBe(before.body.index);
    expect(after.body.registers).toEqual(before.body.registers);
  });

  it("rejects a malformed condition with INVALID_BODY", async () => {
    for (const bad of [-1, 1.5, "3"]) {
      const r = await call("PUT", "/provider", { name: "cas/bad", value: 1, ifVersion: bad });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("INVALID_BODY");
    }
  });

  it("two writers racing with ifVersion: exactly one wins, every round of 1,000", async () => {
    await call("PUT", "/provider", { name: "cas/race", value: 0 });
    let version = 1;
    for (let round = 0; round < 1000; round++) {
      const [a, b] = await Promise.all([
        call("PUT", "/provider", { name: "cas/race", value: `a${round}`, ifVersion: version }),
        call("PUT", "/provider", { name: "cas/race", value: `b${round}`, ifVersion: version }),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([200, 409]);
      const winner = a.status === 200 ? a : b;
      expect(winner.body.registers[0].version).toBe(version + 1);
      version++;
    }
    const final = await call("GET", "/consumer?name=cas/race");
    expect(final.body.registers[0].version).toBe(1001);
  }, 30_000);
});

describe("conditional deletes", () => {
  it("DELETE /provider?ifVersion= deletes only at that version", async () => {
    await call("PUT", "/provider", { name: "cas/d", value: 1 });
    await call("PUT", "/provider", { name: "cas/d", value: 2 });
    const stale = await call("DELETE", "/provider?name=cas/d&ifVersion=1");
    expect(stale.status).toBe(409);
    expect(stale.body.error.details.conflicts[0]).toMatchObject({ name: "cas/d", version: 2, ifVersion: 1 });
    expect((await call("GET", "/consumer?name=cas/d")).body.registers[0].found).toBe(true);
    const ok = await call("DELETE", "/provider?name=cas/d&ifVersion=2");
    expect(ok.body.deleted).toEqual(["cas/d"]);
  });

  it("pairs one condition per name, all or nothing, and rejects a count mismatch", async () => {
    await call("PUT", "/provider", {
      registers: [
        { name: "cas/e1", value: 1 },
        { name: "cas/e2", value: 1 },
      ],
    });
    const bad = await call("DELETE", "/provider?name=cas/e1&name=cas/e2&ifVersion=1&ifVersion=2");
    expect(bad.status).toBe(409);
    expect((await call("GET", "/consumer?name=cas/e1")).body.registers[0].found).toBe(true);
    const mismatch = await call("DELETE", "/provider?name=cas/e1&name=cas/e2&ifVersion=1&ifVersion=1&ifVersion=1");
    expect(mismatch.body.error.code).toBe("INVALID_QUERY");
    const notNumber = await call("DELETE", "/provider?name=cas/e1&ifVersion=x");
    expect(notNumber.body.error.code).toBe("INVALID_QUERY");
    const ok = await call("DELETE", "/provider?name=cas/e1&name=cas/e2&ifVersion=1");
    expect(ok.body.deleted).toEqual(["cas/e1", "cas/e2"]);
  });
});

describe("conditional change requests", () => {
  it("queues only while the device is in the state the app saw", async () => {
    await call("PUT", "/provider", { name: "cas/lamp", value: "off" });
    const ok = await call("PUT", "/consumer", { name: "cas/lamp", value: "on", ifVersion: 1 });
    expect(ok.status).toBe(202);
    await call("PUT", "/provider", { name: "cas/lamp", value: "dim" });
    const stale = await call("PUT", "/consumer", { requests: [{ name: "cas/lamp", value: "on", ifVersion: 1 }] });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details.conflicts[0]).toMatchObject({ name: "cas/lamp", version: 2, ifVersion: 1 });
    const pending = await call("GET", "/provider?name=cas/lamp&wait=0");
    expect(pending.body.requests.map((r: { id: number }) => r.id)).toEqual([ok.body.requests[0].id]);
  });
});
