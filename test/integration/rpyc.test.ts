// The RPyC registry over real UDP and TCP sockets: captured bytes, discovery mapping, unregister, list, bad input.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "../../src/protocols/rpyc/brine.js";
import { hex, request, rpycPort, tcpExchange, udpExchange } from "../helpers/rpyc-wire.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";

const CAPTURED_REGISTER = hex(
  "12 08 0d 52 50 59 43 08 0e 08 52 45 47 49 53 54 45 52 11 10 08 0d 45 43 48 4f 16 05 33 39 32 38 31",
);
const OK = "080b4f4b";

let srv: TestServer;
let port: number;

beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:" } });
  port = rpycPort(srv);
});
afterAll(() => srv.dispose());

const value = (data: Buffer) => {
  const r = decode(data);
  if (!r.ok) throw new Error(`reply does not decode: ${r.detail}`);
  return r.value;
};
const udp = async (cmd: string, args: Parameters<typeof request>[1]) =>
  value((await udpExchange(port, [request(cmd, args)])).data);
const tcp = async (cmd: string, args: Parameters<typeof request>[1]) =>
  value(await tcpExchange(port, [request(cmd, args)]));
const consumer = async (query: string) => (await (await fetch(`${srv.url}/consumer?${query}`)).json()) as any;
/** A counter of dropped requests by code (0 before the first one). */
const dropped = async (code: string) => {
  const v = await metricValue(srv.url, "switchboard_protocol_errors_total", { protocol: "rpyc", code });
  return Number.isNaN(v) ? 0 : v;
};
const malformedCount = () => dropped("MALFORMED");

describe("rpyc registry: the captured exchange", () => {
  it("answers the captured REGISTER over UDP with the captured bytes, from the registry port", async () => {
    const reply = await udpExchange(port, [CAPTURED_REGISTER]);
    expect(reply.data.toString("hex")).toBe(OK);
    expect(reply.fromPort).toBe(port);
    const q = await udpExchange(port, [request("QUERY", ["echo"])]);
    expect(q.data.toString("hex")).toBe("10110 80e09 3132372e302e302e31 1605 3339323831".replace(/ /g, ""));
  });

  it("stores it through discovery: services/ECHO/<ip>:<port>, the endpoint as value, the prune timeout as lease", async () => {
    const r = await consumer("name=services/ECHO/127.0.0.1:39281");
    expect(r.registers[0]).toMatchObject({
      found: true,
      value: { host: "127.0.0.1", port: 39281, protocol: "rpyc" },
      metadata: { leaseMs: 240_000 },
    });
    expect(Date.parse(r.registers[0].expiresAt)).toBeGreaterThan(Date.now() + 230_000);
  });

  it("answers the same request over TCP, even when it arrives in pieces, then closes", async () => {
    const reply = await tcpExchange(port, [CAPTURED_REGISTER.subarray(0, 9), CAPTURED_REGISTER.subarray(9)]);
    expect(reply.toString("hex")).toBe(OK);
    expect(await tcp("QUERY", ["Echo"])).toEqual([["127.0.0.1", 39281]]);
    expect(await tcp("QUERY", ["nobody"])).toEqual([]);
  });
});

describe("rpyc registry: commands", () => {
  it("upper-cases aliases, records the source address, and wakes a REST long-poll on the new service", async () => {
    const { index } = await consumer("prefix=services/CALC/");
    const poll = consumer(`prefix=services/CALC/&index=${index}&wait=10s`);
    expect(await udp("register", [["calc", "Adder", "CALC"], 4001])).toBe("OK");
    const woken = await poll;
    expect(woken.registers.map((r: any) => r.name)).toEqual(["services/CALC/127.0.0.1:4001"]);
    expect(await tcp("QUERY", ["adder"])).toEqual([["127.0.0.1", 4001]]);
  });

  it("publishes registrations on /events", async () => {
    const controller = new AbortController();
    const res = await fetch(`${srv.url}/events?prefix=services/STREAMED/`, { signal: controller.signal });
    const reader = res.body!.getReader();
    expect(await udp("REGISTER", [["streamed"], 4100])).toBe("OK");
    let text = "";
    for (let i = 0; i < 20 && !text.includes("\n\n"); i++)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toMatch(/^event: set\n/);
    expect(text).toContain("services/STREAMED/127.0.0.1:4100");
  });

  it("UNREGISTER removes (source ip, port) from every name and nothing else", async () => {
    expect(await udp("REGISTER", [["u1", "u2"], 5001])).toBe("OK");
    expect(await udp("REGISTER", [["u1"], 5002])).toBe("OK");
    expect(await tcp("UNREGISTER", [5001])).toBe("OK");
    expect(await udp("QUERY", ["u1"])).toEqual([["127.0.0.1", 5002]]);
    expect(await udp("QUERY", ["u2"])).toEqual([]);
    expect((await consumer("name=services/U2/127.0.0.1:5001")).registers[0].found).toBe(false);
  });

  it("finds services registered through REST under an upper-case type", async () => {
    const put = await fetch(`${srv.url}/provider`, {
      method: "PUT",
      body: JSON.stringify({ name: "services/PRINTER/office", value: { host: "10.1.2.3", port: 18861 } }),
    });
    expect(put.status).toBe(200);
    expect(await udp("QUERY", ["printer"])).toEqual([["10.1.2.3", 18861]]);
    expect(await udp("LIST", [["10.1.2.3"]])).toEqual(["PRINTER"]);
  });

  it("LIST names every queryable service, or those on one host", async () => {
    const all = (await tcp("LIST", [[null]])) as string[];
    expect(all).toEqual(expect.arrayContaining(["ECHO", "CALC", "ADDER", "U1", "PRINTER"]));
    expect(all).not.toContain("U2");
    const local = (await udp("LIST", [["127.0.0.1"]])) as string[];
    expect(local).toContain("ECHO");
    expect(local).not.toContain("PRINTER");
    expect(await udp("LIST", [["192.0.2.1"]])).toEqual([]);
  });

  it("skips an alias that cannot be a service type, and acknowledges nothing when no alias was stored", async () => {
    const before = await dropped("INVALID_NAME");
    expect(await udp("REGISTER", [["good", "not/valid"], 5100])).toBe("OK");
    expect(await udp("QUERY", ["good"])).toEqual([["127.0.0.1", 5100]]);
    // Only-invalid aliases: no reply, proven by the QUERY sent after it being the first answer.
    const r = await udpExchange(port, [request("REGISTER", [["a b"], 5101]), request("QUERY", ["good"])]);
    expect(value(r.data)).toEqual([["127.0.0.1", 5100]]);
    expect(await dropped("INVALID_NAME")).toBe(before + 2);
  });
});

describe("rpyc registry: bad input gets no reply, is counted, and changes nothing", () => {
  const bad: [string, Buffer][] = [
    ["random bytes", hex("deadbeef")],
    ["a truncated request", CAPTURED_REGISTER.subarray(0, 20)],
    ["wrong magic", encode(["RPYX", "REGISTER", [["X"], 1]])],
    ["bytes as magic", Buffer.concat([hex("12 0d 52505943"), request("QUERY", ["x"]).subarray(7)])],
    ["an unknown command", request("DELETE", ["x"])],
    ["REGISTER without a port", request("REGISTER", [["X"]])],
    ["REGISTER with port 0", request("REGISTER", [["X"], 0])],
    ["REGISTER with text aliases", request("REGISTER", ["X", 80])],
    ["QUERY of an int", request("QUERY", [7])],
    ["LIST without the inner tuple", request("LIST", [null])],
    ["a float inside", hex("12 08 0d 52505943 08 0b 4f4b 10 18 0000000000000000")],
  ];

  it.each(bad)("%s over UDP", async (_, datagram) => {
    const before = await consumer("prefix=services/");
    const count = await malformedCount();
    const r = await udpExchange(port, [datagram, request("QUERY", ["echo"])]);
    expect(value(r.data)).toEqual([["127.0.0.1", 39281]]);
    expect(await malformedCount()).toBe(count + 1);
    const after = await consumer("prefix=services/");
    expect(after.index).toBe(before.index);
  });

  it.each(bad)("%s over TCP: closed without a byte", async (_, data) => {
    const count = await malformedCount();
    expect((await tcpExchange(port, [data], { halfClose: true })).length).toBe(0);
    expect(await malformedCount()).toBe(count + 1);
  });

  it("closes a connection that sends nothing without counting it", async () => {
    const count = await malformedCount();
    expect((await tcpExchange(port, [], { halfClose: true })).length).toBe(0);
    expect(await tcp("QUERY", ["echo"])).toEqual([["127.0.0.1", 39281]]);
    expect(await malformedCount()).toBe(count);
  });

  it("closes and counts a connection that never completes its request", async () => {
    const count = await malformedCount();
    const t0 = Date.now();
    const partial = CAPTURED_REGISTER.subarray(0, 10);
    // No half-close: the server must give up on its own (after its 3 s idle timeout).
    expect((await tcpExchange(port, [partial])).length).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    expect(await malformedCount()).toBe(count + 1);
  });
});
