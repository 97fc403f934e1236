// The RPyC registry over UDP: one request per datagram, the reply sent from the registry port to the sender.

import { createSocket, type Socket } from "node:dgram";
import type { Logger } from "pino";
import type { Metrics } from "../../metrics.js";
import { MAX_MESSAGE_BYTES, PROTOCOL, type RegistryHandler } from "./registry.js";

/** Requests being handled at once; a flood beyond this is dropped rather than queued without bound. */
const MAX_IN_FLIGHT = 256;

/** A UDP client reads up to ten datagrams' worth for a LIST reply (rpyc's MAX_DGRAM_SIZE * 10). */
const UDP_LIST_REPLY_BYTES = MAX_MESSAGE_BYTES * 10;

export interface UdpRegistry {
  readonly port: number;
  close(): Promise<void>;
}

/** Binds address:port (0 = any free port); rejects with the socket error (EADDRINUSE…) when it cannot. */
export function listenUdp(
  address: string,
  family: 4 | 6,
  port: number,
  handle: RegistryHandler,
  log: Logger,
  metrics: Metrics,
): Promise<UdpRegistry> {
  const socket: Socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
  let inFlight = 0;
  let closed = false;

  const reply = (data: Buffer, to: { address: string; port: number }) => {
    if (closed) return;
    try {
      socket.send(data, to.port, to.address, (err) => {
        if (err) log.debug({ err, to: to.address }, "rpyc udp reply not sent");
      });
    } catch (err) {
      log.debug({ err, to: to.address }, "rpyc udp reply not sent");
    }
  };

  socket.on("message", (msg, rinfo) => {
    if (msg.length > MAX_MESSAGE_BYTES) {
      // The stock server reads at most 1,500 bytes of a datagram; a longer one is not a registry request.
      metrics.errors.labels(PROTOCOL, "MALFORMED").inc();
      log.debug({ transport: "udp", from: rinfo.address, bytes: msg.length }, "rpyc datagram too large, dropped");
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      metrics.errors.labels(PROTOCOL, "OVERLOADED").inc();
      log.debug({ transport: "udp", from: rinfo.address }, "rpyc udp busy, datagram dropped");
      return;
    }
    inFlight++;
    void handle(msg, { transport: "udp", address: rinfo.address, listReplyBytes: UDP_LIST_REPLY_BYTES })
      .then((out) => {
        if (out) reply(out, rinfo);
      })
      .finally(() => {
        inFlight--;
      });
  });

  return new Promise((resolve, reject) => {
    const onBindError = (err: Error) => {
      closed = true;
      socket.close();
      reject(err);
    };
    socket.once("error", onBindError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", onBindError);
      // After the bind, an error (ICMP unreachable surfacing on some systems) must not crash the server.
      socket.on("error", (err) => log.debug({ err }, "rpyc udp socket error"));
      resolve({
        port: socket.address().port,
        close: () =>
          new Promise<void>((done) => {
            if (closed) return done();
            closed = true;
            socket.close(() => done());
          }),
      });
    });
  });
}
