// The CGSE service-registry dialect over ZeroMQ: a ROUTER for requests, a ROUTER for heartbeats, a PUB for events.

import { z } from "zod";
import { allowOption, NetworkGate, policyOption } from "../network.js";
import { defineProtocol, type Listener, portOption, switchOption } from "../protocol.js";
import { Actions } from "./actions.js";
import { EventFeed } from "./events.js";
import { ZmqSockets } from "./server.js";

export const zmqProtocol = defineProtocol({
  name: "zmq",
  // Its wire carries no token: with auth on it listens on loopback only (see ProtocolModule.credentials).
  credentials: "none",
  allowOption: "zmqAllow",
  options: z.object({
    zmqReqPort: portOption(6100, "ZeroMQ ROUTER port for CGSE registry requests (0 = any free port, off = none)"),
    zmqPubPort: portOption(6101, "ZeroMQ PUB port for CGSE registry events (register, deregister, expire)"),
    zmqHbPort: portOption(6102, "ZeroMQ ROUTER port for CGSE service heartbeats (renewals)"),
    zmqAllowTerminate: switchOption(
      false,
      "let the CGSE `terminate` request stop the whole server (SIGTERM to itself); refused when off",
    ),
    zmqEnforceUniqueTypes: switchOption(
      true,
      "CGSE unique service types: a second service of a type is refused unless it sets allow_duplicate_service_type",
    ),
    zmqAllow: allowOption("zmq-allow"),
    zmqPolicy: policyOption("zmq-policy"),
  }),
  create(ctx, options) {
    let bound: Listener[] = [];
    const portOf = (protocol: string) => bound.find((l) => l.protocol === protocol)?.port ?? null;
    let feed: EventFeed | undefined;
    const actions = new Actions({
      discovery: ctx.services.discovery,
      now: () => ctx.core.clock.now(),
      enforceUniqueTypes: options.zmqEnforceUniqueTypes,
      allowTerminate: options.zmqAllowTerminate,
      ports: () => ({ req: portOf("zmq-req"), pub: portOf("zmq-pub"), hb: portOf("zmq-hb") }),
      terminate: () => {
        ctx.log.warn("terminate requested over ZeroMQ: stopping the server");
        process.kill(process.pid, "SIGTERM");
      },
      willDeregister: (name, record) => feed?.expect(name, record) ?? (() => undefined),
    });
    const gate = new NetworkGate(
      { allow: options.zmqAllow, policy: options.zmqPolicy, auth: ctx.services.auth, flag: "zmq" },
      (address) => {
        ctx.metrics.errors.labels("zmq", "NETWORK_REFUSED").inc();
        ctx.log.warn({ address }, "zmq connection refused: not in --zmq-allow");
      },
    );
    const sockets = new ZmqSockets(
      ctx,
      actions,
      { req: options.zmqReqPort, pub: options.zmqPubPort, hb: options.zmqHbPort },
      gate,
    );
    return {
      async start() {
        bound = await sockets.start();
        const pub = sockets.publisher;
        if (pub) {
          feed = new EventFeed(ctx.core, ctx.log, (e) => pub.send([e.type, e.json]));
          feed.start();
        }
        return bound;
      },
      async stop() {
        await feed?.stop();
        await sockets.stop();
      },
    };
  },
});
