// ZeroMQ socket plumbing: binding with errors that name the flag, one-at-a-time sends, bounded receive loops.

import type { Logger } from "pino";
import type * as Zmq from "zeromq";
import { SwitchboardError } from "../../core/index.js";

/** Binds `sock` on host:port; a failure is a start-up error that names the setting to change. */
export async function bindSocket(sock: Zmq.Socket, host: string, port: number, flag: string): Promise<number> {
  const ipv6 = host.includes(":");
  if (ipv6) (sock as Zmq.Socket & { ipv6: boolean }).ipv6 = true;
  const endpoint = `tcp://${ipv6 ? `[${host}]` : host}:${port === 0 ? "*" : port}`;
  try {
    await sock.bind(endpoint);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why =
      code === "EADDRINUSE"
        ? "the address is already in use"
        : code === "EACCES"
          ? "permission denied"
          : code === "EADDRNOTAVAIL" || code === "ENODEV"
            ? "no such local address"
            : (err as Error).message;
    throw new SwitchboardError("LISTEN_FAILED", `cannot listen on ${host}:${port} (--${flag}): ${why}`, {
      details: { flag, host, port },
      cause: err,
    });
  }
  const bound = /:(\d+)$/.exec(sock.lastEndpoint ?? "");
  return bound ? Number(bound[1]) : port;
}

/**
 * A zeromq socket takes one send at a time (a second concurrent send is refused), so replies
 * and events queue here. ROUTER and PUB sends never block (an unknown peer or a full peer queue
 * drops the message), so the queue drains at wire speed; it is bounded anyway.
 */
export class SerialSender {
  readonly #sock: Zmq.Socket & { send(frames: (string | Buffer)[]): Promise<void> };
  readonly #log: Logger;
  readonly #max: number;
  readonly #queue: (string | Buffer)[][] = [];
  #draining = false;
  #dropped = 0;

  constructor(sock: Zmq.Socket & { send(frames: (string | Buffer)[]): Promise<void> }, log: Logger, max = 10_000) {
    this.#sock = sock;
    this.#log = log;
    this.#max = max;
  }

  /** Messages dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  send(frames: (string | Buffer)[]): void {
    if (this.#sock.closed) return;
    if (this.#queue.length >= this.#max) {
      this.#dropped++;
      return;
    }
    this.#queue.push(frames);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (let frames = this.#queue.shift(); frames; frames = this.#queue.shift()) {
        if (this.#sock.closed) break;
        try {
          await this.#sock.send(frames);
        } catch (err) {
          if (this.#sock.closed) break;
          this.#log.warn({ err }, "zeromq send failed");
        }
      }
    } finally {
      this.#queue.length = 0;
      this.#draining = false;
    }
  }
}

/**
 * Receives until the socket closes, handling up to `concurrency` messages at once; when that
 * many are in flight it stops reading, so a flood waits in zeromq's bounded queues, not here.
 */
export async function receiveLoop(
  sock: Zmq.Socket & { receive(): Promise<Buffer[]> },
  concurrency: number,
  handle: (frames: Buffer[]) => Promise<void>,
  log: Logger,
): Promise<void> {
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  while (!sock.closed) {
    let frames: Buffer[];
    try {
      frames = await sock.receive();
    } catch (err) {
      // Only a closed socket is expected to fail here; anything else would fail again, so stop reading.
      if (!sock.closed) log.error({ err }, "zeromq receive failed; the socket stops reading");
      break;
    }
    inFlight++;
    void handle(frames).finally(() => {
      inFlight--;
      slotFreed?.();
    });
    while (inFlight >= concurrency && !sock.closed) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      slotFreed = undefined;
    }
  }
}
