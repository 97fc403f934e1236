// The console's /events reader: SSE parsing, states, and resuming with Last-Event-ID — against a real server and a scripted one.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { type ConnectionState, EventStream, type StreamMessage } from "../src/events.js";

let stream: EventStream | undefined;
let srv: TestServer | undefined;
afterEach(async () => {
  stream?.close();
  await srv?.dispose();
  srv = undefined;
});

/** Messages and states, with a way to await the next ones. */
function recorder() {
  const messages: StreamMessage[] = [];
  const states: string[] = [];
  const waiters: (() => void)[] = [];
  const poke = () => {
    for (const w of waiters.splice(0)) w();
  };
  return {
    messages,
    states,
    onMessage: (m: StreamMessage) => {
      messages.push(m);
      poke();
    },
    onState: (s: ConnectionState) => {
      states.push(s.kind);
      poke();
    },
    async until(check: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

describe("EventStream", () => {
  it("reads a real server's events with their revisions as ids", async () => {
    srv = await startTestServer({ config: { dataDir: ":memory:" } });
    const rec = recorder();
    stream = new EventStream({ url: `${srv.url}/events`, headers: () => ({}), ...rec });
    stream.start(0);
    await rec.until(() => rec.states.includes("live"), "live");
    await fetch(`${srv.url}/provider`, { method: "PUT", body: JSON.stringify({ name: "ev/a", value: [1, "two"] }) });
    await rec.until(() => rec.messages.length > 0, "an event");
    expect(rec.messages[0]).toMatchObject({ event: "set", id: 1 });
    expect(JSON.parse(rec.messages[0]!.data)).toMatchObject({ name: "ev/a", register: { value: [1, "two"] } });
    expect(stream.lastId).toBe(1);
    expect(rec.states.slice(0, 2)).toEqual(["connecting", "live"]);
  });

  it("reconnects after the stream ends and sends the last id it saw as Last-Event-ID", async () => {
    const seen: (string | undefined)[] = [];
    const fake = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(req.headers["last-event-id"] as string | undefined);
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (seen.length === 1) {
        // A comment, a CRLF event with two data lines, then the end of the stream.
        res.end(': hello\r\nevent: set\r\nid: 41\r\ndata: {"a":\r\ndata: 1}\r\n\r\n');
      } else {
        res.write("event: ack\nid: 42\ndata: {}\n\n");
      }
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const rec = recorder();
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/events`;
      stream = new EventStream({ url, headers: () => ({ authorization: "Bearer t" }), minDelayMs: 5, ...rec });
      stream.start(40);
      await rec.until(() => rec.messages.length >= 2, "two messages");
      expect(rec.messages).toEqual([
        { event: "set", id: 41, data: '{"a":\n1}' },
        { event: "ack", id: 42, data: "{}" },
      ]);
      expect(seen).toEqual(["40", "41"]);
      expect(rec.states).toContain("retrying");
      stream.close();
    } finally {
      fake.closeAllConnections();
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it("stops and reports a refused token instead of retrying", async () => {
    let calls = 0;
    const fake = createServer((_req, res) => {
      calls++;
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"code":"UNAUTHORIZED"}}');
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const rec = recorder();
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/events`;
      stream = new EventStream({ url, headers: () => ({}), minDelayMs: 5, ...rec });
      stream.start(0);
      await rec.until(() => rec.states.includes("unauthorized"), "unauthorized");
      // Give a wrongly scheduled retry (5-10 ms) the time to show up.
      await new Promise((r) => setTimeout(r, 50));
      expect(calls).toBe(1);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
