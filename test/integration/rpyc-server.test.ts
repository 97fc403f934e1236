// The RPyC registry's lease and listeners: keepalive and pruning on the injected clock, ports, off, in use, listing off.

import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode } from "../../src/protocols/rpyc/brine.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { request, rpycPort, tcpExchange, udpExchange } from "../helpers/rpyc-wire.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const consumer = async (srv: TestServer, query: string) =>
  (await (await fetch(`${srv.url}/consumer?${query}`)).json()) as any;

describe("rpyc registry: the prune timeout is the lease, a repeated REGISTER renews it", () => {
  const clock = new FakeClock();
  let srv: TestServer;
  let port: number;
  const query = async (name: string) => (await udpExchange(port, [request("QUERY", [name])])).data.toString("hex");
  const EMPTY = "02";

  beforeAll(async () => {
    srv = await startTestServer({ clock, config: { dataDir: ":memory:", healthInterval: 0 } });
    port = rpycPort(srv);
  });
  afterAll(() => srv.dispose());

  it("keeps a renewed registration past the first deadline without a revision, then prunes it", async () => {
    const ok = (await udpExchange(port, [request("REGISTER", [["kept"], 6001])])).data.toString("hex");
    expect(ok).toBe("080b4f4b");
    const { index } = await consumer(srv, "name=services/KEPT/127.0.0.1:6001");

    clock.advance(200_000);
    await tcpExchange(port, [request("REGISTER", [["KEPT"], 6001])]);
    // The keepalive moved the deadline only: no revision, so no event and no watcher woken.
    expect(srv.server.core.revision).toBe(index);
    expect(srv.server.core.get("services/KEPT/127.0.0.1:6001")?.expiresAt).toBe(clock.now() + 240_000);

    clock.advance(200_000); // 400 s after the first REGISTER: alive only thanks to the renewal
    expect(await query("kept")).not.toBe(EMPTY);
    const poll = consumer(srv, `name=services/KEPT/127.0.0.1:6001&index=${index}&wait=5m`);
    await expect.poll(() => srv.server.core.stats().waiters.consumer).toBe(1);

    clock.advance(40_001);
    // Past the deadline a QUERY no longer returns it, even before the sweep has removed it...
    expect(await query("kept")).toBe(EMPTY);
    // A sweep the advance started may have looked before the deadline; the second one looks now.
    await srv.server.core.sweep();
    await srv.server.core.sweep();
    // ...and the sweep expires the register, which wakes its watchers.
    const woken = await poll;
    expect(woken.registers[0]).toMatchObject({ name: "services/KEPT/127.0.0.1:6001", found: false });
    expect(woken.index).toBeGreaterThan(index);
  });
});

describe("rpyc registry: listeners", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({
      config: { dataDir: ":memory:", rpycAllowList: "off", rpycPrune: "90s", healthInterval: 0 },
    });
  });
  afterAll(() => srv.dispose());

  it("listens on one port for UDP and TCP, and /status says so", async () => {
    const port = rpycPort(srv);
    const status = (await (await fetch(`${srv.url}/status`)).json()) as any;
    expect(status.listeners).toEqual(
      expect.arrayContaining([
        { protocol: "rpyc", transport: "udp", host: "127.0.0.1", port },
        { protocol: "rpyc", transport: "tcp", host: "127.0.0.1", port },
      ]),
    );
  });

  it("answers LIST with None when listing is off, and uses the configured prune timeout", async () => {
    const port = rpycPort(srv);
    expect((await udpExchange(port, [request("LIST", [[null]])])).data.toString("hex")).toBe("00");
    expect((await tcpExchange(port, [request("REGISTER", [["short"], 7000])])).toString("hex")).toBe("080b4f4b");
    expect((await consumer(srv, "name=services/SHORT/127.0.0.1:7000")).registers[0].metadata).toEqual({
      leaseMs: 90_000,
    });
  });

  it("binds nothing when off", async () => {
    const off = await startTestServer({ config: { dataDir: ":memory:", rpycPort: "off" } });
    try {
      expect(off.server.listeners.filter((l) => l.protocol === "rpyc")).toEqual([]);
    } finally {
      await off.dispose();
    }
  });

  it("refuses to start, naming the flag, when the UDP or the TCP port is taken", async () => {
    const udp = createSocket("udp4");
    await new Promise<void>((r) => udp.bind(0, "127.0.0.1", r));
    const udpPort = udp.address().port;
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    const tcpPort = (tcp.address() as { port: number }).port;
    try {
      for (const taken of [udpPort, tcpPort]) {
        await expect(startTestServer({ config: { dataDir: ":memory:", rpycPort: taken } })).rejects.toMatchObject({
          code: "INVALID_CONFIG",
          message: `--rpyc-port ${taken}: cannot listen on 127.0.0.1:${taken} (UDP and TCP): the address is already in use`,
        });
      }
    } finally {
      udp.close();
      tcp.close();
    }
  });

  it("releases both sockets when the server stops", async () => {
    const other = await startTestServer({ config: { dataDir: ":memory:" } });
    const port = rpycPort(other);
    await other.dispose();
    const again = await startTestServer({ config: { dataDir: ":memory:", rpycPort: port } });
    try {
      expect(rpycPort(again)).toBe(port);
    } finally {
      await again.dispose();
    }
  });
});

/** Whether this machine has an IPv6 loopback (CI containers may not). */
const ipv6 = await new Promise<boolean>((resolve) => {
  const s = createSocket("udp6");
  s.once("error", () => resolve(false));
  s.bind(0, "::1", () => s.close(() => resolve(true)));
});

describe.skipIf(!ipv6)("rpyc registry on the IPv6 loopback", () => {
  it("binds udp6 and tcp on ::1 and records IPv6 senders as <ip>:<port>", async () => {
    const srv = await startTestServer({ config: { host: "::1", dataDir: ":memory:" } });
    try {
      const port = rpycPort(srv);
      expect(srv.server.listeners.filter((l) => l.protocol === "rpyc").map((l) => l.host)).toEqual(["::1", "::1"]);
      const ok = await udpExchange(port, [request("REGISTER", [["six"], 6006])], "::1");
      expect(ok.data.toString("hex")).toBe("080b4f4b");
      const answer = decode(await tcpExchange(port, [request("QUERY", ["six"])], { host: "::1" }));
      expect(answer).toMatchObject({ ok: true, value: [["::1", 6006]] });
      expect(srv.server.core.get("services/SIX/::1:6006")?.value).toEqual({
        host: "::1",
        port: 6006,
        protocol: "rpyc",
      });
    } finally {
      await srv.dispose();
    }
  });
});
