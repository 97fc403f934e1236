// consume(…, {where}) against the real server: filtered subscriptions wake only for matching changes, one shared poll per filter.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientError, type ConsumeItem, SwitchboardClient } from "#client";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { take } from "./helpers.js";

let srv: TestServer;
let writer: SwitchboardClient;

beforeAll(async () => {
  srv = await startTestServer();
  writer = new SwitchboardClient({ url: srv.url });
});
afterAll(async () => {
  await writer.close();
  await srv.dispose();
});

/** Waits (bounded) until the server holds `n` consumer long-polls. */
async function heldPolls(n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await writer.serverStatus()).waiters.consumer === n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect((await writer.serverStatus()).waiters.consumer).toBe(n);
}

const values = (items: ConsumeItem[]) => items.map((i) => (i.found ? i.value : null));

describe("consume with where", () => {
  it("a filtered subscription sees 35 and 40 but never 25; an unfiltered one on the same name sees all", async () => {
    const seen: string[] = [];
    const counting: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      if (url.pathname === "/consumer" && url.searchParams.has("index")) seen.push(url.searchParams.get("where") ?? "");
      return fetch(input, init);
    };
    const app = new SwitchboardClient({ url: srv.url, fetch: counting });
    try {
      await writer.set("w/temp", 10);
      const hot = app.consume("w/temp", { where: { value: { $gt: 30 } } });
      // The same filter, keys in another order: the same poll.
      const hot2 = app.consume("w/temp", { where: { value: { $gt: 30 }, name: "w/temp" } });
      const hot3 = app.consume("w/temp", { where: { name: "w/temp", value: { $gt: 30 } } });
      const all = app.consume("w/temp");
      // The first item is the current state, whatever the filter.
      for (const s of [hot, hot2, hot3, all]) expect(await take(s)).toMatchObject({ found: true, value: 10 });
      await heldPolls(3); // unfiltered, {value}, {name, value}

      await writer.set("w/temp", 35);
      expect(await take(hot)).toMatchObject({ value: 35 });
      expect(await take(all)).toMatchObject({ value: 35 });
      await writer.set("w/temp", 25);
      expect(await take(all)).toMatchObject({ value: 25 });
      await writer.set("w/temp", 40);
      expect(await take(all)).toMatchObject({ value: 40 });
      // The filtered reader's next item is 40: 25 never woke it and is not in its buffer.
      expect(await take(hot)).toMatchObject({ value: 40 });
      // The others did not read 35 in time: a register's unread value is replaced by its latest.
      expect(values([await take(hot2), await take(hot3)])).toEqual([40, 40]);

      expect(new Set(seen)).toEqual(new Set(["", '{"value":{"$gt":30}}', '{"name":"w/temp","value":{"$gt":30}}']));
      // A filter nobody uses any more stops its poll; the others go on.
      hot.close();
      await heldPolls(3);
      hot2.close();
      hot3.close();
      await heldPolls(1);
      await writer.set("w/temp", 5);
      expect(await take(all)).toMatchObject({ value: 5 });
    } finally {
      await app.close();
    }
  });

  it("a prefix with a filter wakes only for matching registers; a deletion arrives with the next wake", async () => {
    const app = new SwitchboardClient({ url: srv.url });
    try {
      await writer.set("w/room/a", 1);
      const alarms = app.consume({ prefix: "w/room/" }, { where: { "value.alarm": true } });
      expect(await take(alarms)).toMatchObject({ name: "w/room/a", value: 1 });
      await heldPolls(1);
      await writer.set("w/room/b", { alarm: false });
      await writer.set("w/room/a", { alarm: true });
      expect(await take(alarms)).toMatchObject({ name: "w/room/a", value: { alarm: true } });
      // A deletion does not match {"value.alarm": true} (it leaves only {name}): it comes with the next wake.
      await writer.delete("w/room/a");
      await writer.set("w/room/b", { alarm: true, level: 2 });
      expect(await take(alarms)).toMatchObject({ name: "w/room/a", found: false });
      expect(await take(alarms)).toMatchObject({ name: "w/room/b", value: { alarm: true, level: 2 } });
      // b's non-matching write never came through.
      expect([...alarms.current.keys()]).toEqual(["w/room/b"]);
    } finally {
      await app.close();
    }
  });

  it("a filter that is not an object throws at once; one the server refuses ends only its own subscriptions", async () => {
    const app = new SwitchboardClient({ url: srv.url });
    try {
      expect(() => app.consume("w/x", { where: [] as never })).toThrow(ClientError);
      expect(() => app.consume("w/x", { where: { f: () => 1 } as never })).toThrow(
        expect.objectContaining({ code: "INVALID_FILTER" }),
      );
      await writer.set("w/ok", 1);
      const ok = app.consume("w/ok");
      const bad = app.consume("w/ok", { where: { $where: "this.value > 1" } });
      await expect(take(bad)).rejects.toMatchObject({ status: 400, code: "INVALID_FILTER" });
      expect(await take(ok)).toMatchObject({ value: 1 });
      await writer.set("w/ok", 2);
      expect(await take(ok)).toMatchObject({ value: 2 });
    } finally {
      await app.close();
    }
  });
});
