// The cluster store: the core's mutations as a NATS JetStream stream that one leased writer appends to and every node tails.
//
// Guarantees, and where they come from:
// - One writer at a time: WriterLease (a KV key with a TTL). A node that is not the writer refuses commits with NOT_WRITER
//   before the core assigns anything (Persistence.isWriter), so followers never invent revisions.
// - No fork of the history: every publish carries `expect last sequence` = the last sequence this node applied. A node
//   that missed an entry (another writer got in) is refused by JetStream, steps down and answers NOT_WRITER.
// - No double entry on a retried publish: the message id `<epoch>:<term>:<n>:<part>` is the same on every retry, so
//   JetStream's duplicate window answers the original sequence instead of storing a second copy.
// - A client is answered after JetStream acknowledged (by the stream's replicas; see docs/cluster.md for fsync).
// - Every node applies every entry in stream order through the core's applyReplicated(), which wakes long-polls and
//   streams exactly as a local write does. The writer skips its own entries (it applied them on commit): its tail waits
//   for an in-flight commit to settle before looking at an entry, so its own entry is never mistaken for a foreign one.
// - A group commit larger than MAX_PART bytes is split into parts of one group; followers apply a group only once its
//   last part arrived, and drop a group that never completed (its writer failed mid-way and answered an error).
// Not here (yet): snapshots in an object store and purging, a watchdog for a stalled tail, write forwarding.

import { createHash } from "node:crypto";
import {
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { SwitchboardError } from "../../core/errors.js";
import type { LoadResult, Persistence } from "../../core/ports.js";
import type { Mutation } from "../../core/types.js";
import { WriterLease } from "./lease.js";

/** Under JetStream's default 1 MiB max payload, with room for the envelope. */
const MAX_PART = 900 * 1024;
const WRONG_LAST_SEQUENCE = 10071;

export interface ReplicatedLogOptions {
  readonly url: string;
  /** Stream name; the lease bucket is `<stream>-lease`. */
  readonly stream: string;
  readonly replicas: number;
  readonly nodeId: string;
  readonly leaseTtlMs: number;
  readonly publishTimeoutMs?: number;
  readonly logger: Logger;
}

export type ClusterStatus = {
  readonly nodeId: string;
  readonly role: "writer" | "follower";
  readonly term: number;
  readonly writer: string | null;
  readonly appliedSequence: number;
  readonly connected: boolean;
};

export interface ReplicatedLog extends Persistence {
  /** Starts tailing after what load() returned and competing for the lease; `apply` gets each entry another node wrote. */
  follow(apply: (mutations: readonly Mutation[]) => void): Promise<void>;
  /** Role, term, writer and applied sequence, for /status. */
  cluster(): ClusterStatus;
}

interface Entry {
  /** Group id: `<epoch>:<term>:<n>`. */
  readonly g: string;
  /** True on the last part of the group. */
  readonly l: boolean;
  readonly m: Mutation[];
}

export function createReplicatedLog(o: ReplicatedLogOptions): ReplicatedLog {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(o.stream)) {
    throw new SwitchboardError("INVALID_CONFIG", `cluster-stream must be letters, digits, _ or -: ${o.stream}`);
  }
  const subject = `${o.stream}.log`;
  const log = o.logger;
  const publishTimeoutMs = o.publishTimeoutMs ?? 2000;
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let lease: WriterLease | undefined;
  let epoch = "";
  let connected = false;
  let closed = false;
  let applied = 0;
  let writerTerm = 0;
  let groupsCommitted = 0;
  let committing: Promise<unknown> | null = null;
  let pending: { g: string; m: Mutation[] } | null = null;
  let stopTail: (() => void) | undefined;
  const caughtUp = new Set<() => void>();

  /** Assembles parts into groups; returns a complete group's mutations, or null. */
  function take(msg: JsMsg): Mutation[] | null {
    let e: Entry;
    try {
      e = msg.json<Entry>();
    } catch (err) {
      log.error({ err, seq: msg.seq }, "unreadable cluster log entry skipped");
      return null;
    }
    if (pending && pending.g !== e.g) {
      log.warn(
        { group: pending.g, seq: msg.seq },
        "an incomplete group commit was dropped (its writer failed mid-way)",
      );
      pending = null;
    }
    pending ??= { g: e.g, m: [] };
    for (const m of e.m) pending.m.push(m);
    if (!e.l) return null;
    const done = pending.m;
    pending = null;
    return done;
  }

  async function readUpTo(from: number, last: number, each: (msg: JsMsg) => void): Promise<void> {
    // An empty stream reports first_seq 0 (or first > last after a purge): nothing to read.
    if (last === 0 || last < from) return;
    const consumer = await js!.consumers.get(o.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const messages = await consumer.consume();
    try {
      for await (const msg of messages) {
        each(msg);
        if (msg.seq >= last) break;
      }
    } finally {
      messages.stop();
    }
  }

  function isWriter(): boolean {
    return writerTerm !== 0 && lease !== undefined && lease.held;
  }

  function notWriter(): SwitchboardError {
    const writer = lease?.holder ?? null;
    return new SwitchboardError(
      "NOT_WRITER",
      writer ? `this node does not take writes; node ${writer} does` : "no node holds the write lease right now",
      { details: { writer }, retryAfter: 1 },
    );
  }

  /** Resolves once the tail applied everything the stream held when asked (a new writer must not write before). */
  async function catchUp(deadlineMs: number): Promise<boolean> {
    const last = (await jsm!.streams.info(o.stream)).state.last_seq;
    const until = performance.now() + deadlineMs;
    while (applied < last) {
      const left = until - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          caughtUp.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        caughtUp.add(done);
      });
    }
    return true;
  }

  async function publish(data: Uint8Array, msgID: string, expected: number): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      if (!isWriter()) throw notWriter();
      try {
        const ack = await js!.publish(subject, data, {
          msgID,
          expect: { lastSequence: expected },
          timeout: publishTimeoutMs,
        });
        return ack.seq;
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) {
          log.warn({ expected, term: writerTerm }, "another node wrote to the cluster log: stepping down");
          writerTerm = 0;
          await lease?.stepDown("wrong last sequence");
          throw notWriter();
        }
        // A timeout may hide a stored message: the retry carries the same id, so it is answered, not stored twice.
        if (attempt >= 3 || closed) {
          throw new SwitchboardError("STORAGE_UNAVAILABLE", "the cluster log did not acknowledge the write", {
            cause: err,
            retryAfter: 1,
          });
        }
      }
    }
  }

  return {
    name: "cluster",

    async load(): Promise<LoadResult> {
      nc = await connect({
        servers: o.url,
        name: `switchboard-${o.nodeId}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      connected = true;
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === "disconnect") connected = false;
          else if (s.type === "reconnect") connected = true;
        }
      })();
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      let info = await jsm.streams.info(o.stream).catch(() => null);
      if (!info) {
        info = await jsm.streams
          .add({ name: o.stream, subjects: [subject], num_replicas: o.replicas })
          .catch(() => jsm!.streams.info(o.stream)); // another node made it first
      }
      // The stream's creation time makes the epoch: a recreated stream is a new history, whoever recreated it.
      epoch = createHash("sha256").update(`${info.config.name}\n${info.created}`).digest("base64url").slice(0, 16);
      const kv = await new Kvm(nc).create(`${o.stream}-lease`, { ttl: o.leaseTtlMs, history: 1, replicas: o.replicas });
      lease = new WriterLease({
        kv,
        key: "writer",
        nodeId: o.nodeId,
        ttlMs: o.leaseTtlMs,
        onError: (err) => log.warn({ err }, "lease check failed"),
        events: {
          onAcquired(term) {
            void catchUp(o.leaseTtlMs)
              .then((ok) => {
                if (ok && lease?.held && lease.term === term) {
                  writerTerm = term;
                  log.info({ term, applied }, "this node is the cluster writer");
                } else if (lease?.term === term) void lease.stepDown("tail did not catch up in time");
              })
              .catch((err: unknown) => log.warn({ err }, "catch-up before writing failed"));
          },
          onLost(reason) {
            if (writerTerm !== 0) log.warn({ term: writerTerm, reason }, "this node is no longer the cluster writer");
            writerTerm = 0;
          },
        },
      });
      const tail: Mutation[] = [];
      await readUpTo(info.state.first_seq, info.state.last_seq, (msg) => {
        const group = take(msg);
        applied = msg.seq;
        if (group) for (const m of group) tail.push(m);
      });
      return { epoch, snapshot: null, tail };
    },

    async follow(apply) {
      const consumer = await js!.consumers.get(o.stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: applied + 1,
      });
      const messages = await consumer.consume();
      stopTail = () => messages.stop();
      void (async () => {
        for await (const msg of messages) {
          while (committing) await committing.catch(() => undefined);
          if (msg.seq <= applied) continue;
          const group = take(msg);
          applied = msg.seq;
          if (group) {
            try {
              apply(group);
            } catch (err) {
              log.error({ err, seq: msg.seq }, "applying a cluster log entry failed");
            }
          }
          for (const done of [...caughtUp]) done();
        }
      })().catch((err: unknown) => log.error({ err }, "the cluster log tail stopped"));
      lease!.start();
    },

    async commit(mutations) {
      if (!isWriter()) throw notWriter();
      const run = (async () => {
        const group = `${epoch}:${writerTerm}:${groupsCommitted++}`;
        const parts = split(mutations);
        let seq = applied;
        for (let i = 0; i < parts.length; i++) {
          const data = new TextEncoder().encode(JSON.stringify({ g: group, l: i === parts.length - 1, m: parts[i] }));
          seq = await publish(data, `${group}:${i}`, seq);
        }
        applied = seq;
      })();
      committing = run;
      try {
        await run;
      } finally {
        if (committing === run) committing = null;
      }
    },

    async compact() {
      // The stream is the log; snapshots into an object store (and purging below them) are not built yet.
    },

    wantsCompaction: () => false,

    isHealthy: () => connected && !closed,

    isWriter,

    writer: () => lease?.holder ?? null,

    cluster: () => status(),

    async close() {
      if (closed) return;
      closed = true;
      writerTerm = 0;
      await lease?.stop().catch(() => undefined);
      stopTail?.();
      await nc?.drain().catch(() => undefined);
    },
  };

  function status(): ClusterStatus {
    return {
      nodeId: o.nodeId,
      role: isWriter() ? "writer" : "follower",
      term: writerTerm,
      writer: lease?.holder ?? null,
      appliedSequence: applied,
      connected,
    };
  }
}

/** Splits a group commit into parts under MAX_PART bytes of JSON (a single larger mutation goes alone). */
function split(mutations: readonly Mutation[]): Mutation[][] {
  const parts: Mutation[][] = [[]];
  let size = 0;
  for (const m of mutations) {
    const n = JSON.stringify(m).length;
    if (size + n > MAX_PART && parts[parts.length - 1]!.length > 0) {
      parts.push([]);
      size = 0;
    }
    parts[parts.length - 1]!.push(m);
    size += n;
  }
  return parts;
}
