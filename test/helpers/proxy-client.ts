// A raw TCP client for proxy tests: send bytes, collect everything until the proxy or target closes.

import { once } from "node:events";
import { connect, type Socket } from "node:net";

export interface RawConnection {
  readonly socket: Socket;
  /** Resolves with every byte received once the connection closed. */
  readonly received: Promise<Buffer>;
  /** Resolves once at least `n` bytes have arrived (or the connection closed), with what arrived. */
  receivedAtLeast(n: number): Promise<Buffer>;
}

export async function openRaw(port: number): Promise<RawConnection> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.on("error", () => undefined);
  await once(socket, "connect");
  const chunks: Buffer[] = [];
  let size = 0;
  const wanted: { n: number; resolve: (b: Buffer) => void }[] = [];
  const settle = (closed: boolean) => {
    for (const w of [...wanted]) {
      if (closed || size >= w.n) {
        wanted.splice(wanted.indexOf(w), 1);
        w.resolve(Buffer.concat(chunks));
      }
    }
  };
  socket.on("data", (c: Buffer) => {
    chunks.push(c);
    size += c.length;
    settle(false);
  });
  const received = new Promise<Buffer>((resolve) =>
    socket.once("close", () => {
      settle(true);
      resolve(Buffer.concat(chunks));
    }),
  );
  return {
    socket,
    received,
    receivedAtLeast(n) {
      if (size >= n || socket.destroyed) return Promise.resolve(Buffer.concat(chunks));
      return new Promise((resolve) => wanted.push({ n, resolve }));
    },
  };
}

/** Connects, sends `data`, and returns everything received until close (for refusals). */
export async function exchange(port: number, data: string | Buffer): Promise<string> {
  const c = await openRaw(port);
  c.socket.write(data);
  return (await c.received).toString("utf8");
}
