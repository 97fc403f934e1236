// ZeroMQ's authentication protocol (ZAP, RFC 27) used as a network gate: a peer outside the allowed networks is refused at the handshake.

import type * as Zmq from "zeromq";

/** The gates of every socket in this process that has one, by ZAP domain (one ZAP endpoint per zeromq context). */
const gates = new Map<string, (address: string) => boolean>();
let handler: Promise<void> | undefined;
let nextDomain = 1;

async function serve(zmq: typeof Zmq): Promise<void> {
  const sock = new zmq.Reply({ linger: 0 });
  await sock.bind("inproc://zeromq.zap.01");
  void (async () => {
    // Request frames: version, request id, domain, address, identity, mechanism, credentials...
    for await (const [version, requestId, domain, address] of sock) {
      const admits = gates.get(domain?.toString() ?? "");
      const ok = admits ? admits(address?.toString() ?? "") : false;
      await sock.send([version ?? "1.0", requestId ?? "", ok ? "200" : "400", ok ? "OK" : "not allowed", "", ""]);
    }
  })();
}

/**
 * Puts `sock` behind `admits` (called with the peer's IP address at each connection); call before
 * binding. Returns the release, to call when the socket closes.
 */
export async function gateSocket(zmq: typeof Zmq, sock: Zmq.Socket, admits: (address: string) => boolean) {
  handler ??= serve(zmq);
  await handler;
  const domain = `switchboard-${process.pid}-${nextDomain++}`;
  gates.set(domain, admits);
  sock.zapDomain = domain;
  return () => gates.delete(domain);
}
