// Raw RPyC registry requests over real UDP and TCP sockets, for the tests that speak the wire themselves.

import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { type Brine, encode } from "../../src/protocols/rpyc/brine.js";
import type { TestServer } from "./server.js";

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

/** The port both rpyc listeners share. */
export function rpycPort(srv: TestServer): number {
  const l = srv.server.listeners.filter((x) => x.protocol === "rpyc");
  if (l.length !== 2 || l[0]!.port !== l[1]!.port) throw new Error(`unexpected rpyc listeners ${JSON.stringify(l)}`);
  return l[0]!.port;
}

export const request = (cmd: string, args: Brine): Buffer => encode(["RPYC", cmd, args]);

export interface UdpReply {
  readonly data: Buffer;
  /** The port the reply came from (stock clients only accept replies from the registry port). */
  readonly fromPort: number;
}

/**
 * Sends every datagram from one socket and resolves with the first reply. Sending garbage first
 * and a valid request last proves the garbage got no reply without waiting for a silence.
 */
export function udpExchange(port: number, datagrams: Buffer[], host = "127.0.0.1"): Promise<UdpReply> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  return new Promise<UdpReply>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no UDP reply")), 3000);
    socket.once("message", (data, rinfo) => {
      clearTimeout(timer);
      resolve({ data, fromPort: rinfo.port });
    });
    socket.once("error", reject);
    for (const d of datagrams) socket.send(d, port, host);
  }).finally(() => socket.close());
}

/** One TCP exchange: writes the chunks (optionally half-closing), resolves with all bytes read until the server closes. */
export function tcpExchange(
  port: number,
  chunks: Buffer[],
  options: { halfClose?: boolean; host?: string } = {},
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ port, host: options.host ?? "127.0.0.1", allowHalfOpen: true });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("TCP exchange did not end"));
    }, 5000);
    socket.on("data", (d) => got.push(d));
    socket.on("error", () => undefined); // a reset is a close here; the bytes read so far are the answer
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
    socket.setNoDelay(true);
    socket.on("connect", async () => {
      for (const [i, c] of chunks.entries()) {
        // A pause between pieces is how a request arrives split; nothing on the server side signals
        // that it read the first piece, so here a short delay is the means, not a wait for a result.
        if (i > 0) await new Promise((r) => setTimeout(r, 30));
        socket.write(c);
      }
      if (options.halfClose) socket.end();
      else socket.on("end", () => socket.end());
    });
  });
}
