// GET /consumer and GET /provider at node level: callback holds, the client's disconnect from the response's
// close event, the answers of a wake written after the writer's, in chunks, each distinct answer serialised once.

import { type HeldPoll, SwitchboardError } from "../../core/index.js";
import { parseQuery } from "../http/parse.js";
import { observeWake } from "../http/respond.js";
import type { FastHandler, FastRequest } from "../protocol.js";
import { consumerAnswer, consumerPollRequest } from "./consumer.js";
import { INDEX_HEADER, type RestContext } from "./context.js";
import type { PollSlots } from "./limits.js";
import { providerAnswer, providerPollRequest } from "./provider.js";

/** Answers written per macrotask once a wake has been handed over; the rest wait for the next turn. */
const WRITE_CHUNK = 256;

/**
 * The answers of woken polls, written in the macrotasks after the wake: the writer whose commit
 * woke them has been answered by then (its answer is a chain of microtasks), and other requests
 * get the event loop between chunks.
 */
class AnswerQueue {
  #queue: (() => void)[] = [];
  #at = 0;
  #scheduled = false;

  constructor(private readonly onIdle: () => void) {}

  push(write: () => void): void {
    this.#queue.push(write);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    const end = Math.min(this.#queue.length, this.#at + WRITE_CHUNK);
    for (; this.#at < end; this.#at++) this.#queue[this.#at]!();
    if (this.#at < this.#queue.length) {
      setImmediate(() => this.#drain());
      return;
    }
    this.#queue = [];
    this.#at = 0;
    this.#scheduled = false;
    this.onIdle();
  }
}

/**
 * Serialised answers shared by every poll with the same answer: same query (selection, index, epoch,
 * flags — and any future filter, as all are in the query), same caller's view, same revision. Kept
 * until the queue of woken answers is written out (or the end of the macrotask).
 */
class SharedAnswers {
  #answers = new Map<string, Buffer>();
  #clearing = false;

  get(key: string, make: () => string): Buffer {
    let b = this.#answers.get(key);
    if (b === undefined) {
      b = Buffer.from(make());
      this.#answers.set(key, b);
      if (!this.#clearing) {
        this.#clearing = true;
        setImmediate(() => this.clear());
      }
    }
    return b;
  }

  clear(): void {
    this.#clearing = false;
    if (this.#answers.size > 0) this.#answers = new Map();
  }
}

export interface FastPolls {
  readonly consumer: FastHandler;
  readonly provider: FastHandler;
}

export function fastPollRoutes(ctx: RestContext, slots: { consumer: PollSlots; provider: PollSlots }): FastPolls {
  const { auth } = ctx.services;
  const shared = new SharedAnswers();
  const queue = new AnswerQueue(() => shared.clear());

  /**
   * The life of one held poll: a slot, the hold, the client's close, the token's revocation.
   * `start` begins the hold with an answer callback; answers that come synchronously are written at
   * once, the others through the queue.
   */
  function hold(fr: FastRequest, slotsOf: PollSlots, start: (answer: (write: () => void) => void) => HeldPoll): void {
    const release = slotsOf.take(fr.req.socket.remoteAddress ?? "unknown");
    let done = false;
    let offRevoke: () => void = () => undefined;
    const finish = () => {
      done = true;
      release();
      offRevoke();
    };
    let sync = true;
    let held: HeldPoll | undefined;
    const answer = (write: () => void) => {
      if (done) return;
      const run = () => {
        if (done) return;
        finish();
        try {
          write();
        } catch (err) {
          fr.fail(err);
        }
      };
      if (sync) run();
      else queue.push(run);
    };
    try {
      held = start(answer);
    } catch (err) {
      finish();
      throw err;
    }
    sync = false;
    if (done) return;
    fr.res.once("close", () => {
      if (done) return;
      finish();
      held?.drop();
    });
    if (auth.enabled && fr.principal.kind === "token") {
      offRevoke = auth.onRevoke(fr.principal, () => {
        if (done) return;
        finish();
        held?.drop();
        fr.fail(new SwitchboardError("UNAUTHENTICATED", "the token was revoked"));
      });
    }
  }

  const consumer: FastHandler = (fr) => {
    hold(fr, slots.consumer, (answer) => {
      const request = consumerPollRequest(ctx, parseQuery(fr.target), fr.principal);
      const q = fr.target.indexOf("?");
      const view = auth.enabled ? `${fr.principal.kind}:${fr.principal.id ?? ""}` : "";
      const query = q === -1 ? "" : fr.target.slice(q + 1);
      return ctx.core.holdConsumerPoll(request.selector, request.index, request.options, (result) =>
        answer(() => {
          observeWake(ctx, "consumer", result.changedAt);
          const body = shared.get(`${result.index}\n${view}\n${query}`, () => consumerAnswer(ctx, request, result));
          fr.send(200, body, { [INDEX_HEADER]: String(result.index) });
        }),
      );
    });
  };

  const provider: FastHandler = (fr) => {
    hold(fr, slots.provider, (answer) => {
      const request = providerPollRequest(ctx, parseQuery(fr.target), fr.principal);
      return ctx.core.holdProviderPoll(request.selector, request.after, request.options, (err, result) =>
        answer(() => {
          if (err !== undefined) throw err;
          observeWake(ctx, "provider", result!.changedAt);
          fr.send(200, providerAnswer(ctx, result!), { [INDEX_HEADER]: String(result!.index) });
        }),
      );
    });
  };

  return { consumer, provider };
}
