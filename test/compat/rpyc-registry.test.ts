// Stock rpyc (Debian's python3-rpyc) against Switchboard's RPyC registry: auto-registering servers, discovery, calls, LIST, pruning.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../helpers/fake-clock.js";
import { rpycPort } from "../helpers/rpyc-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { type RpycDriver, startRpycDriver } from "./rpyc/driver.js";

type Transport = "udp" | "tcp";

let driver: RpycDriver;
beforeAll(() => {
  driver = startRpycDriver();
});
afterAll(() => driver.close());

const consumer = async (srv: TestServer, query: string) =>
  (await (await fetch(`${srv.url}/consumer?${query}`)).json()) as any;

/** Resolves once the register's presence is `found` (a REST long-poll from the given index). */
async function awaitPresence(srv: TestServer, name: string, found: boolean, index: number) {
  let at = index;
  for (let i = 0; i < 10; i++) {
    const r = await consumer(srv, `name=${name}&index=${at}&wait=10s`);
    if (r.registers[0].found === found) return r.registers[0];
    at = r.index;
  }
  throw new Error(`${name} did not become ${found ? "present" : "absent"}`);
}

describe.each<Transport>(["tcp", "udp"])("stock rpyc over %s", (transport) => {
  let srv: TestServer;
  let base: { transport: Transport; registry_port: number };
  beforeAll(async () => {
    srv = await startTestServer({ config: { dataDir: ":memory:" } });
    base = { transport, registry_port: rpycPort(srv) };
  });
  afterAll(() => srv.dispose());

  it("a ThreadedServer auto-registers; discover and connect_by_service find it and call it; close unregisters", async () => {
    const { index } = await consumer(srv, "prefix=services/");
    const { port } = await driver.send<{ port: number }>({ op: "serve", service: "echo", ...base });
    const name = `services/ECHO/127.0.0.1:${port}`;
    const registered = await awaitPresence(srv, name, true, index);
    expect(registered.value).toEqual({ host: "127.0.0.1", port, protocol: "rpyc" });

    expect(await driver.send({ op: "discover", name: "echo", ...base })).toEqual({ found: [["127.0.0.1", port]] });
    expect(await driver.send({ op: "call", name: "ECHO", arg: "hi", ...base })).toEqual({
      result: "echo: hi",
      peer: ["127.0.0.1", port],
    });

    const before = await consumer(srv, `name=${name}`);
    await driver.send({ op: "close", port });
    await awaitPresence(srv, name, false, before.index);
    expect(await driver.send({ op: "discover", name: "echo", ...base })).toMatchObject({ error: "DiscoveryError" });
  });

  it("registers every alias of a service; LIST names them, with and without a host filter", async () => {
    const { index } = await consumer(srv, "prefix=services/");
    const { port } = await driver.send<{ port: number }>({ op: "serve", service: "other", ...base });
    await awaitPresence(srv, `services/ADDER/127.0.0.1:${port}`, true, index);
    await awaitPresence(srv, `services/CALC/127.0.0.1:${port}`, true, index);
    try {
      expect(await driver.send({ op: "call", name: "adder", arg: [2, 3], ...base })).toMatchObject({ result: 5 });
      expect(await driver.send({ op: "list", ...base })).toEqual({ services: ["ADDER", "CALC"] });
      expect(await driver.send({ op: "list", filter: "127.0.0.1", ...base })).toEqual({ services: ["ADDER", "CALC"] });
      expect(await driver.send({ op: "list", filter: "192.0.2.7", ...base })).toEqual({ services: [] });
    } finally {
      await driver.send({ op: "close", port });
    }
  });
});

describe("stock rpyc: leases on the injected clock", () => {
  const clock = new FakeClock();
  let srv: TestServer;
  let registry: number;
  beforeAll(async () => {
    srv = await startTestServer({ clock, config: { dataDir: ":memory:" } });
    registry = rpycPort(srv);
  });
  afterAll(() => srv.dispose());

  it("a ThreadedServer that does not renew within the prune timeout is no longer discovered", async () => {
    const base = { transport: "udp", registry_port: registry };
    const { index } = await consumer(srv, "prefix=services/");
    const { port } = await driver.send<{ port: number }>({ op: "serve", service: "echo", ...base });
    try {
      await awaitPresence(srv, `services/ECHO/127.0.0.1:${port}`, true, index);
      clock.advance(239_000);
      expect(await driver.send({ op: "discover", name: "echo", ...base })).toEqual({ found: [["127.0.0.1", port]] });
      // rpyc renews every 60 s of real time: within this test it never does, so the lease runs out.
      clock.advance(1_001);
      expect(await driver.send({ op: "discover", name: "echo", ...base })).toMatchObject({ error: "DiscoveryError" });
    } finally {
      await driver.send({ op: "close", port });
    }
  });

  it("a registrar's repeated register() keeps the registration alive", async () => {
    for (const transport of ["udp", "tcp"]) {
      const base = { transport, registry_port: registry };
      const again = { op: "register", aliases: ["beacon"], port: transport === "udp" ? 9001 : 9002, ...base };
      expect(await driver.send(again)).toEqual({ ok: true });
      clock.advance(200_000);
      expect(await driver.send(again)).toEqual({ ok: true });
      clock.advance(200_000);
      const found = await driver.send<{ found: unknown[] }>({ op: "discover", name: "BEACON", ...base });
      expect(found.found).toContainEqual(["127.0.0.1", again.port]);
      await driver.send({ op: "unregister", port: again.port, ...base });
    }
  });
});

describe("stock rpyc: listing off, and garbage", () => {
  let srv: TestServer;
  let base: { transport: Transport; registry_port: number };
  beforeAll(async () => {
    srv = await startTestServer({ config: { dataDir: ":memory:", rpycAllowList: false } });
    base = { transport: "udp", registry_port: rpycPort(srv) };
  });
  afterAll(() => srv.dispose());

  it("list_services raises ForbiddenError when listing is off", async () => {
    expect(await driver.send({ op: "list", ...base })).toMatchObject({ error: "ForbiddenError" });
    expect(await driver.send({ op: "list", ...base, transport: "tcp" })).toMatchObject({ error: "ForbiddenError" });
  });

  it("random datagrams get no reply and do no harm", async () => {
    expect(await driver.send({ op: "register", aliases: ["still"], port: 9100, ...base })).toEqual({ ok: true });
    const garbage = [
      "",
      "00",
      "ffffffff",
      "12080d52505943",
      "1208 0d5250594308 0b4f4b 02".replace(/ /g, ""),
      "15ffffffff",
    ];
    expect(await driver.send({ op: "garbage_then_query", garbage, name: "still", ...base })).toEqual({
      reply: [["127.0.0.1", 9100]],
    });
  });
});
