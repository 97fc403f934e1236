// The three CGSE sockets: frames in, actions called, replies and events out; malformed input is dropped and counted.

import type * as Zmq from "zeromq";
import type { JsonObject } from "../../core/index.js";
import { isSwitchboardError } from "../../core/index.js";
import type { NetworkGate } from "../network.js";
import type { Listener, ProtocolContext } from "../protocol.js";
import { checkAction } from "./access.js";
import type { ActionResult, Actions } from "./actions.js";
import { bindSocket, receiveLoop, SerialSender } from "./sockets.js";
import { gateSocket } from "./zap.js";

const REQ = "REQ";
const REQ_NO_REPLY = "REQ_NO_REPLY";
const RESPONSE = "RESPONSE";
/** Requests handled at once per socket; beyond that, zeromq's queues hold the rest. */
const CONCURRENCY = 256;
const ACTIONS = new Set(["register", "deregister", "renew", "get", "list", "discover", "health", "info", "terminate"]);

interface Ports {
  readonly req: number | null;
  readonly pub: number | null;
  readonly hb: number | null;
}

/** A request body: a JSON object, or the CGSE answer for anything else. */
function parseBody(frame: Buffer): JsonObject | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(frame));
  } catch {
    return null;
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as JsonObject) : null;
}

/** Auth refusals are answered in the CGSE shape with their code. */
const REFUSALS = new Set(["FORBIDDEN", "UNAUTHENTICATED", "RATE_LIMITED"]);

const INVALID_JSON: ActionResult = { body: { success: false, error: "Invalid JSON format" }, code: "INVALID_JSON" };

export class ZmqSockets {
  readonly #ctx: ProtocolContext;
  readonly #actions: Actions;
  readonly #ports: Ports;
  readonly #open: Zmq.Socket[] = [];
  readonly #loops: Promise<void>[] = [];
  #publisher: SerialSender | undefined;
  /** The last request in progress per peer identity; gone when the peer has nothing in flight. */
  readonly #tails = new Map<string, Promise<void>>();

  readonly #gate: NetworkGate;
  readonly #releases: (() => void)[] = [];

  constructor(ctx: ProtocolContext, actions: Actions, ports: Ports, gate: NetworkGate) {
    this.#ctx = ctx;
    this.#actions = actions;
    this.#ports = ports;
    this.#gate = gate;
  }

  /** The PUB socket's sender, once started (undefined when the events port is off). */
  get publisher(): SerialSender | undefined {
    return this.#publisher;
  }

  async start(): Promise<Listener[]> {
    const { req, pub, hb } = this.#ports;
    if (req === null && pub === null && hb === null) return [];
    // Loaded here, not at import: the CLI's client commands and config parsing need no native addon.
    const zmq = await import("zeromq");
    const host = this.#ctx.host;
    // A frame larger than the body limit makes zeromq drop that peer's connection before it is buffered.
    const maxMessageSize = this.#ctx.settings.maxBodyBytes;
    const listeners: Listener[] = [];
    try {
      if (req !== null) {
        const sock = this.#track(new zmq.Router({ linger: 0, maxMessageSize }));
        await this.#gated(zmq, sock);
        const port = await bindSocket(sock, host, req, "zmq-req-port");
        listeners.push({ protocol: "zmq-req", transport: "zmq", host, port });
        const out = new SerialSender(sock, this.#ctx.log);
        this.#loops.push(receiveLoop(sock, CONCURRENCY, (f) => this.#onRequest(f, out), this.#ctx.log));
      }
      if (pub !== null) {
        const sock = this.#track(new zmq.Publisher({ linger: 0 }));
        await this.#gated(zmq, sock);
        const port = await bindSocket(sock, host, pub, "zmq-pub-port");
        listeners.push({ protocol: "zmq-pub", transport: "zmq", host, port });
        this.#publisher = new SerialSender(sock, this.#ctx.log);
      }
      if (hb !== null) {
        const sock = this.#track(new zmq.Router({ linger: 0, maxMessageSize }));
        await this.#gated(zmq, sock);
        const port = await bindSocket(sock, host, hb, "zmq-hb-port");
        listeners.push({ protocol: "zmq-hb", transport: "zmq", host, port });
        const out = new SerialSender(sock, this.#ctx.log);
        this.#loops.push(receiveLoop(sock, CONCURRENCY, (f) => this.#onHeartbeat(f, out), this.#ctx.log));
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    return listeners;
  }

  async stop(): Promise<void> {
    for (const s of this.#open.splice(0)) s.close();
    for (const release of this.#releases.splice(0)) release();
    await Promise.all(this.#loops.splice(0));
    this.#publisher = undefined;
  }

  #track<T extends Zmq.Socket>(sock: T): T {
    this.#open.push(sock);
    return sock;
  }

  /** Frames [identity, REQ | REQ_NO_REPLY, json]; the reply is [identity, RESPONSE, json]. */
  async #onRequest(frames: Buffer[], out: SerialSender): Promise<void> {
    const [identity, type, body] = frames;
    const kind = type?.toString("latin1");
    if (!identity || !body || (kind !== REQ && kind !== REQ_NO_REPLY)) {
      this.#ctx.metrics.errors.labels("zmq", "MALFORMED").inc();
      return;
    }
    await this.#inOrder(identity, async () => {
      const result = await this.#answer(body, (request) => this.#actions.handle(request));
      if (kind === REQ) out.send([identity, RESPONSE, JSON.stringify(result.body)]);
    });
  }

  /**
   * Runs one peer's requests in the order they arrived (a REQ_NO_REPLY deregister followed by a
   * register must not be overtaken), while different peers' requests run concurrently.
   */
  async #inOrder(identity: Buffer, work: () => Promise<void>): Promise<void> {
    const key = identity.toString("latin1");
    const previous = this.#tails.get(key);
    const run = previous ? previous.then(work) : work();
    this.#tails.set(key, run);
    try {
      await run;
    } finally {
      if (this.#tails.get(key) === run) this.#tails.delete(key);
    }
  }

  /** Frames [identity, json] with {"action": "renew", "service_id"}; the reply is [identity, json]. */
  async #onHeartbeat(frames: Buffer[], out: SerialSender): Promise<void> {
    const [identity, body] = frames;
    if (frames.length !== 2 || !identity || !body) {
      this.#ctx.metrics.errors.labels("zmq", "MALFORMED").inc();
      return;
    }
    const result = await this.#answer(body, (request) => this.#actions.renew(request));
    out.send([identity, JSON.stringify(result.body)]);
  }

  /** With --zmq-allow, peers outside the networks are refused at the ZeroMQ handshake (ZAP). */
  async #gated(zmq: typeof Zmq, sock: Zmq.Socket): Promise<void> {
    if (!this.#gate.restricted) return;
    this.#releases.push(await gateSocket(zmq, sock, (address) => this.#gate.admits(address)));
  }

  async #answer(body: Buffer, run: (request: JsonObject) => Promise<ActionResult>): Promise<ActionResult> {
    const request = parseBody(body);
    let result: ActionResult;
    if (request === null) {
      result = INVALID_JSON;
    } else {
      try {
        // The body's `token` wins; else the listener's policy (--zmq-policy); else everything (loopback).
        checkAction(this.#ctx.services.auth, this.#gate.principal(request.token), request.action);
        result = await run(request);
      } catch (err) {
        if (isSwitchboardError(err) && REFUSALS.has(err.code)) {
          result = { body: { success: false, error: err.message, code: err.code }, code: err.code };
        } else {
          this.#ctx.log.error({ err, action: request.action }, "zmq request failed");
          result = { body: { success: false, error: "Internal error", code: "INTERNAL" }, code: "INTERNAL" };
        }
      }
      // Only the known actions become label values: a client must not be able to grow the metric without bound.
      const action = typeof request.action === "string" && ACTIONS.has(request.action) ? request.action : "unknown";
      this.#ctx.metrics.operations.labels("zmq", action).inc();
    }
    if (result.code) this.#ctx.metrics.errors.labels("zmq", result.code).inc();
    return result;
  }
}
