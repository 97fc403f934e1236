// The registry audit over RPyC (UDP and TCP), against a real server on port 0 with an injected clock.

import { decode } from "../../src/protocols/rpyc/brine.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { request, rpycPort, tcpExchange, udpExchange } from "../helpers/rpyc-wire.js";
import { startTestServer } from "../helpers/server.js";
import { describeRegistryAudit, type RegistryDialectDriver } from "./registry-audit.js";

/*
 * The protocol audit (protocol-audit.ts) needs named registers with arbitrary values, reads with
 * an index, change requests and coded errors: RPyC has none of these (a registration is an alias
 * and a port; a lookup answers host/port pairs; bad input gets no answer). Its set, wake, expire
 * and remove scenarios are what registry-audit.ts runs here, in RPyC's own terms.
 */
describeRegistryAudit("rpyc", async () => {
  const clock = new FakeClock();
  const srv = await startTestServer({ clock, config: { dataDir: ":memory:", healthInterval: 0 } });
  const port = rpycPort(srv);
  const reply = (data: Buffer) => {
    const r = decode(data);
    if (!r.ok) throw new Error(`undecodable reply: ${r.detail}`);
    return r.value;
  };
  const ok = (data: Buffer) => {
    if (reply(data) !== "OK") throw new Error(`expected OK, got ${data.toString("hex")}`);
  };
  const driver: RegistryDialectDriver = {
    async register(type, servicePort) {
      ok((await udpExchange(port, [request("REGISTER", [[type], servicePort])])).data);
      return `services/${type.toUpperCase()}/127.0.0.1:${servicePort}`;
    },
    async renew(type, servicePort) {
      ok(await tcpExchange(port, [request("REGISTER", [[type], servicePort])]));
    },
    async deregister(_type, servicePort) {
      ok((await udpExchange(port, [request("UNREGISTER", [servicePort])])).data);
    },
    async lookup(type) {
      const pairs = reply(await tcpExchange(port, [request("QUERY", [type])])) as [string, number][];
      return pairs.map(([host, p]) => ({ host, port: p }));
    },
    async badInput() {
      // The LIST sent last is answered first: the malformed datagrams before it got no reply.
      const first = await udpExchange(port, [
        Buffer.from("12080d52505943", "hex"),
        request("REGISTER", [["x"], 0]),
        request("LIST", [[null]]),
      ]);
      if (!Array.isArray(reply(first.data))) throw new Error("a malformed request was answered");
    },
  };
  return {
    driver,
    url: srv.url,
    leaseMs: 240_000,
    async advance(ms) {
      clock.advance(ms);
      // A sweep the advance started may have looked before the deadline; the second one looks now.
      await srv.server.core.sweep();
      await srv.server.core.sweep();
    },
    close: () => srv.dispose(),
  };
});
