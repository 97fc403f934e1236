// A CGSE registry client over zeromq for tests: a DEALER with identity for requests, one for heartbeats, a SUB for events.

import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import type { Listener } from "../../src/protocols/protocol.js";

export interface CgseEndpoints {
  readonly req: string;
  readonly pub: string;
  readonly hb: string;
}

/** The tcp:// endpoints of a running server's three ZeroMQ listeners. */
export function cgseEndpoints(listeners: readonly Listener[]): CgseEndpoints {
  const at = (protocol: string) => {
    const l = listeners.find((x) => x.protocol === protocol);
    if (!l) throw new Error(`no ${protocol} listener`);
    return `tcp://${l.host}:${l.port}`;
  };
  return { req: at("zmq-req"), pub: at("zmq-pub"), hb: at("zmq-hb") };
}

export interface CgseEvent {
  readonly topic: string;
  readonly body: { type: string; timestamp: number; data: any };
}

export class CgseClient {
  readonly identity = `registry-client-${randomUUID()}`;
  readonly req: zmq.Dealer;
  readonly hb: zmq.Dealer;
  readonly sub: zmq.Subscriber;
  readonly #events: CgseEvent[] = [];
  readonly #waiting = new Set<() => void>();
  readonly #reading: Promise<void>;

  constructor(endpoints: CgseEndpoints) {
    this.req = new zmq.Dealer({ routingId: this.identity, linger: 0, receiveTimeout: 5000 });
    this.req.connect(endpoints.req);
    this.hb = new zmq.Dealer({ routingId: this.identity, linger: 0, receiveTimeout: 5000 });
    this.hb.connect(endpoints.hb);
    const sub = new zmq.Subscriber({ linger: 0 });
    sub.connect(endpoints.pub);
    sub.subscribe();
    this.sub = sub;
    this.#reading = (async () => {
      for await (const [topic, body] of sub) {
        this.#events.push({ topic: topic!.toString(), body: JSON.parse(body!.toString()) });
        for (const w of [...this.#waiting]) w();
      }
    })();
  }

  /** Sends [REQ, json] and resolves with the RESPONSE body (frames checked). */
  async request(body: unknown): Promise<any> {
    await this.req.send(["REQ", typeof body === "string" ? body : JSON.stringify(body)]);
    const frames = await this.req.receive();
    if (frames.length !== 2 || frames[0]!.toString() !== "RESPONSE") {
      throw new Error(`unexpected reply frames: ${frames.map(String).join(" | ")}`);
    }
    return JSON.parse(frames[1]!.toString());
  }

  /** Sends a raw multipart message on the request socket (no reply awaited). */
  async sendRaw(frames: (string | Buffer)[]): Promise<void> {
    await this.req.send(frames);
  }

  /** Sends one heartbeat frame and resolves with the single-frame reply. */
  async heartbeat(serviceId: string): Promise<any> {
    await this.hb.send(JSON.stringify({ action: "renew", service_id: serviceId }));
    const frames = await this.hb.receive();
    if (frames.length !== 1) throw new Error(`unexpected heartbeat reply of ${frames.length} frames`);
    return JSON.parse(frames[0]!.toString());
  }

  /** Events received so far. */
  get events(): readonly CgseEvent[] {
    return this.#events;
  }

  /** Resolves with the first event (already received or coming) that matches. */
  waitForEvent(match: (e: CgseEvent) => boolean, timeoutMs = 5000): Promise<CgseEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.#events.find(match);
        if (!hit) return;
        done();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching event; got ${JSON.stringify(this.#events.map((e) => e.body))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(check);
      };
      this.#waiting.add(check);
      check();
    });
  }

  /** Resolves once the SUB socket receives events (PUB drops what is sent before a subscriber joins). */
  async subscribed(probe: () => Promise<void>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const before = this.#events.length;
      await probe();
      const got = await Promise.race([
        new Promise<boolean>((resolve) => {
          const w = () => {
            this.#waiting.delete(w);
            resolve(true);
          };
          if (this.#events.length > before) resolve(true);
          else this.#waiting.add(w);
        }),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)),
      ]);
      if (got) return;
    }
    throw new Error("the SUB socket never received an event");
  }

  async close(): Promise<void> {
    this.req.close();
    this.hb.close();
    this.sub.close();
    await this.#reading.catch(() => undefined);
  }
}
