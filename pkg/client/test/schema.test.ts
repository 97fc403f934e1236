// Typed values through a Standard Schema (zod here): validated items, INVALID_VALUE errors, typed provisions.

import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { ClientError, type FoundItem, SwitchboardClient } from "#client";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

let srv: TestServer;
let app: SwitchboardClient;

beforeAll(async () => {
  srv = await startTestServer();
  app = new SwitchboardClient({ url: srv.url });
});

afterAll(async () => {
  await app.close();
  await srv.dispose();
});

const Lamp = z.object({ on: z.boolean(), level: z.number().min(0).max(100) });

describe("schemas", () => {
  it("consume<T> yields the schema's output, typed", async () => {
    await app.set("typed/lamp", { on: true, level: 40 });
    const sub = app.consume("typed/lamp", { schema: Lamp });
    const item = await take(sub);
    expect(item).toMatchObject({ found: true, value: { on: true, level: 40 } });
    if (item.found) expectTypeOf(item.value).toEqualTypeOf<{ on: boolean; level: number }>();
    const prefix = app.consume({ prefix: "typed/" }, { schema: Lamp });
    await prefix.ready;
    expectTypeOf(prefix.current).toEqualTypeOf<ReadonlyMap<string, FoundItem<{ on: boolean; level: number }>>>();
    sub.close();
    prefix.close();
  });

  it("a value that does not match ends the subscription with INVALID_VALUE and the issues", async () => {
    await app.set("typed/bad", { on: "yes", level: 400 });
    const sub = app.consume("typed/bad", { schema: Lamp });
    const err = await sub.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ status: 0, code: "INVALID_VALUE", details: { name: "typed/bad" } });
    expect((err as ClientError).details).toMatchObject({
      issues: expect.arrayContaining([expect.objectContaining({ path: "on" })]),
    });
    expect(sub.closed).toBe(true);
  });

  it("provide<T> checks what it writes before sending it", async () => {
    const device = new SwitchboardClient({ url: srv.url });
    expect(() => device.provide("typed/dev", { on: true, level: 101 }, { schema: Lamp })).toThrow(/does not match/);
    const p = device.provide("typed/dev", { on: false, level: 0 }, { schema: Lamp });
    await p.ready;
    expectTypeOf(p.value).toEqualTypeOf<{ on: boolean; level: number }>();
    await expect(p.set({ on: true, level: -1 })).rejects.toMatchObject({ code: "INVALID_VALUE" });
    expect(p.value).toEqual({ on: false, level: 0 });
    await p.set({ on: true, level: 80 });
    expect((await app.get("typed/dev")).value).toEqual({ on: true, level: 80 });
    await device.close();
  });
});
