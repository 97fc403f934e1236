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
// - Writes on a follower are forwarded to the writer over NATS request/reply (subject `<stream>.write.<node>`); the
//   follower answers once its own tail applied the writer's sequence, so a client reads its write on the node it asked.
// - The writer stores a snapshot (with the log sequence it covers) in the object store `<stream>-snap` every
//   snapshotEvery entries, then purges the log below it minus a margin. A node loads the snapshot and the log after it;
//   a tail that finds a gap (purged before it read it) reloads the snapshot. A watchdog recreates a stalled tail.

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
import { type ObjectStore, Objm } from "@nats-io/obj";
import { connect, type NatsConnection, NoRespondersError } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { ERROR_CODES, type ErrorCode, isSwitchboardError, SwitchboardError } from "../../core/errors.js";
import type { ForwardedWrite, LoadResult, Persistence } from "../../core/ports.js";
import type { Mutation, Snapshot } from "../../core/types.js";
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
  /** How long a follower waits for the writer's answer to a forwarded write (default 5 s). */
  readonly forwardTimeoutMs?: number;
  /** How long a follower waits for its tail to apply a forwarded write before answering anyway (default 5 s). */
  readonly applyWaitMs?: number;
  /** The writer stores a snapshot after this many log entries (default 10,000). */
  readonly snapshotEvery?: number;
  /** Entries kept below the snapshot when the log is purged (default 1,000). */
  readonly snapshotMargin?: number;
  readonly logger: Logger;
}

export type ClusterStatus = {
  readonly nodeId: string;
  readonly role: "writer" | "follower";
  readonly term: number;
  readonly writer: string | null;
  readonly appliedSequence: number;
  /** The stream's last sequence when last looked at (every second, and on every entry applied). */
  readonly streamSequence: number;
  /** streamSequence − appliedSequence: entries this node has not applied yet. */
  readonly lag: number;
  /** How often the watchdog recreated a stalled tail consumer. */
  readonly tailRestarts: number;
  /** The log sequence of the latest snapshot this node stored or loaded (0: none). */
  readonly snapshotSequence: number;
  readonly connected: boolean;
};

export interface ReplicatedLog extends Persistence {
  /** Starts tailing after what load() returned and competing for the lease; `apply` gets each entry another node wrote. */
  follow(apply: (mutations: readonly Mutation[]) => void, reset: (snapshot: Snapshot) => void): Promise<void>;
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
  let applyTail: ((mutations: readonly Mutation[]) => void) | undefined;
  let tailGeneration = 0;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  const caughtUp = new Set<() => void>();
  let restarts = 0;
  let store: ObjectStore | undefined;
  let snapshotSeq = 0;
  let snapshotting = false;
  let resetTail: ((snapshot: Snapshot) => void) | undefined;
  const snapshotEvery = o.snapshotEvery ?? 10_000;
  const snapshotMargin = o.snapshotMargin ?? 1_000;

  type StoredSnapshot = { epoch: string; sequence: number; snapshot: Snapshot };

  /** The latest snapshot of this history in the object store (null: none, or one of an older stream). */
  async function readSnapshot(): Promise<StoredSnapshot | null> {
    const blob = await store!.getBlob("snapshot");
    if (!blob) return null;
    const stored = JSON.parse(new TextDecoder().decode(blob)) as StoredSnapshot;
    return stored.epoch === epoch ? stored : null;
  }

  /** Stores the snapshot (taken at `sequence`), then purges the log below it minus the margin. In the background. */
  async function writeSnapshot(snapshot: Snapshot, sequence: number): Promise<void> {
    const data = new TextEncoder().encode(JSON.stringify({ epoch, sequence, snapshot }));
    await store!.putBlob(
      {
        name: "snapshot",
        metadata: { sequence: String(sequence), revision: String(snapshot.revision), epoch },
      },
      data,
    );
    snapshotSeq = sequence;
    const keepFrom = sequence - snapshotMargin + 1;
    if (keepFrom > 1) await jsm!.streams.purge(o.stream, { seq: keepFrom });
    log.info({ sequence, revision: snapshot.revision, bytes: data.length, keepFrom }, "cluster snapshot stored");
  }

  /** The tail found a gap (entries purged before this node read them): load the snapshot, then tail after it. */
  async function reloadAfterGap(seen: number): Promise<void> {
    try {
      const stored = await readSnapshot();
      if (!stored || stored.sequence < applied) {
        log.error({ applied, seen }, "the cluster log has a gap no snapshot covers; tailing on");
      } else {
        log.warn({ applied, seen, snapshot: stored.sequence }, "gap in the cluster log: reloading the snapshot");
        pending = null;
        resetTail?.(stored.snapshot);
        applied = stored.sequence;
        snapshotSeq = Math.max(snapshotSeq, stored.sequence);
      }
    } catch (err) {
      log.error({ err }, "reloading the cluster snapshot failed");
    }
    await startTail();
  }

  let streamLast = 0;
  let runForwarded: ((call: ForwardedWrite) => Promise<unknown>) | undefined;
  const forwardTimeoutMs = o.forwardTimeoutMs ?? 5000;
  const applyWaitMs = o.applyWaitMs ?? 5000;

  /**
   * (Re)starts the tail consumer after the last applied sequence. A restarted tail supersedes the old one: the old loop
   * stops at its next message, so no entry is applied twice (the sequence check also guards that).
   */
  async function startTail(): Promise<void> {
    const generation = ++tailGeneration;
    stopTail?.();
    const consumer = await js!.consumers.get(o.stream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: applied + 1,
    });
    const messages = await consumer.consume();
    if (generation !== tailGeneration || closed) {
      messages.stop();
      return;
    }
    stopTail = () => messages.stop();
    void (async () => {
      for await (const msg of messages) {
        while (committing) await committing.catch(() => undefined);
        if (generation !== tailGeneration) break;
        if (msg.seq <= applied) continue;
        if (msg.seq > applied + 1) {
          // Purged below the snapshot before this node read it: the entries in between are gone from the log.
          tailGeneration++;
          messages.stop();
          void reloadAfterGap(msg.seq);
          break;
        }
        const group = take(msg);
        applied = msg.seq;
        streamLast = Math.max(streamLast, msg.seq + msg.info.pending);
        if (group) {
          try {
            applyTail?.(group);
          } catch (err) {
            log.error({ err, seq: msg.seq }, "applying a cluster log entry failed");
          }
        }
        for (const done of [...caughtUp]) done();
      }
    })().catch((err: unknown) => log.error({ err }, "the cluster log tail stopped"));
  }

  /**
   * A tail that stopped moving while the stream holds more (seen after a JetStream leader change: the consumer never
   * resumes) is recreated from the last applied sequence. Checked every second; two checks without progress restart it.
   */
  function startWatchdog(): void {
    let lastSeen = applied;
    let still = 0;
    let checking = false;
    watchdog = setInterval(() => {
      if (closed || !connected || checking) return;
      checking = true;
      void jsm!.streams
        .info(o.stream)
        .then(async (info) => {
          streamLast = Math.max(streamLast, info.state.last_seq);
          const behind = applied < info.state.last_seq;
          still = behind && applied === lastSeen ? still + 1 : 0;
          lastSeen = applied;
          if (still >= 2) {
            still = 0;
            log.warn({ applied, last: info.state.last_seq }, "the cluster log tail stalled: recreating its consumer");
            restarts++;
            await startTail();
          }
        })
        .catch(() => undefined)
        .finally(() => {
          checking = false;
        });
    }, 1000);
    watchdog.unref();
  }

  /** The request/reply subject on which a node takes forwarded writes (node ids may hold characters subjects cannot). */
  function writeSubject(nodeId: string): string {
    return `${o.stream}.write.${Buffer.from(nodeId).toString("base64url") || "_"}`;
  }

  function noWriter(why: string): SwitchboardError {
    return new SwitchboardError("NO_WRITER", `no node takes writes right now (${why}); retry shortly`, {
      details: { writer: null },
      retryAfter: 1,
    });
  }

  /** Resolves once the tail applied `seq` (or after `ms`; false then). */
  async function appliedUpTo(seq: number, ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (applied < seq) {
      const left = until - performance.now();
      if (left <= 0 || closed) return false;
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

  /** The writer's side of forwarding: runs the write through the core, answers its result and the sequence holding it. */
  async function serveWrite(data: Uint8Array): Promise<Uint8Array> {
    let answer: unknown;
    try {
      if (!runForwarded || closed) throw notWriter();
      const call = JSON.parse(new TextDecoder().decode(data)) as ForwardedWrite;
      const result = await runForwarded(call);
      // Everything this write committed is at or below `applied` now (the core applies after the commit resolved).
      answer = { result: result === undefined ? null : result, seq: applied };
    } catch (err) {
      if (isSwitchboardError(err)) {
        answer = {
          error: {
            code: err.code,
            message: err.message,
            ...(err.details === undefined ? {} : { details: err.details }),
            ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }),
          },
        };
      } else {
        log.error({ err }, "a forwarded write failed");
        answer = { error: { code: "INTERNAL", message: "the writer failed to run the write" } };
      }
    }
    return new TextEncoder().encode(JSON.stringify(answer));
  }

  /**
   * The follower's side: sends the write to the lease holder, then waits until this node's tail applied it. A holder
   * that proves stale (nobody answers on its subject, or it says it no longer writes: in both cases nothing ran) makes
   * the follower read the lease once and try the node it names now.
   */
  async function forward(call: ForwardedWrite): Promise<unknown> {
    if (closed) throw new SwitchboardError("SHUTTING_DOWN", "the server is shutting down");
    if (!nc || !connected) throw noWriter("this node cannot reach NATS");
    const payload = new TextEncoder().encode(JSON.stringify(call));
    if (payload.length > nc.info!.max_payload) {
      throw new SwitchboardError("BODY_TOO_LARGE", "the write is too large to forward to the writer node", {
        details: { size: payload.length, limit: nc.info!.max_payload },
      });
    }
    let writer = lease?.holder ?? null;
    let looked = false;
    for (;;) {
      if (writer === null || writer === o.nodeId) {
        if (looked || !lease) throw noWriter("no node holds the write lease");
        looked = true;
        writer = await lease.lookup();
        continue;
      }
      const answer = await sendToWriter(writer, payload);
      if (typeof answer === "string") {
        if (looked || !lease) throw noWriter(answer);
        looked = true;
        const now = await lease.lookup();
        if (now === writer) throw noWriter(answer);
        writer = now;
        continue;
      }
      // Read-your-writes on this node: answer once the tail applied what the writer committed.
      if (!(await appliedUpTo(answer.seq ?? 0, applyWaitMs))) {
        log.warn({ seq: answer.seq, applied }, "a forwarded write was answered before this node applied it");
      }
      return answer.result;
    }
  }

  /** One forwarded call: the writer's answer, or (a string) why `writer` is not the writer, nothing having run. */
  async function sendToWriter(
    writer: string,
    payload: Uint8Array,
  ): Promise<{ result?: unknown; seq?: number } | string> {
    let reply: {
      result?: unknown;
      seq?: number;
      error?: { code: string; message: string; details?: unknown; retryAfter?: number };
    };
    try {
      const msg = await nc!.request(writeSubject(writer), payload, { timeout: forwardTimeoutMs });
      reply = msg.json();
    } catch (err) {
      // Nobody subscribes the writer's subject: that node is gone (killed, partitioned) and its lease not yet expired.
      if ((err as { isNoResponders?: () => boolean }).isNoResponders?.() === true || err instanceof NoRespondersError) {
        return `node ${writer} does not answer`;
      }
      // A timeout may hide a committed write: say so rather than pretend nothing happened.
      throw new SwitchboardError(
        "STORAGE_UNAVAILABLE",
        `the writer node ${writer} did not answer in time; the write may or may not have been applied`,
        {
          cause: err,
          retryAfter: 1,
        },
      );
    }
    if (reply.error) {
      const e = reply.error;
      // The node named by the lease lost it meanwhile (it refused before running anything).
      if (e.code === "NOT_WRITER") return `node ${writer} no longer holds the lease`;
      const code = (e.code in ERROR_CODES ? e.code : "INTERNAL") as ErrorCode;
      throw new SwitchboardError(code, e.message, {
        ...(e.details === undefined ? {} : { details: e.details }),
        ...(e.retryAfter === undefined ? {} : { retryAfter: e.retryAfter }),
      });
    }
    return reply;
  }

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
      nc.subscribe(writeSubject(o.nodeId), {
        callback: (err, msg) => {
          if (err) return;
          void serveWrite(msg.data).then((answer) => msg.respond(answer));
        },
      });
      // Creating replicated streams and buckets takes a Raft round per call: slower than the client's 5 s default
      // under load. Only setup uses the long bound; the lease, publishes and the tail keep the default (a renewal
      // that hangs longer than the lease is worthless).
      jsm = await jetstreamManager(nc, { timeout: 15_000 });
      const setup = jetstream(nc, { timeout: 15_000 });
      js = jetstream(nc);
      let info = await jsm.streams.info(o.stream).catch(() => null);
      if (!info) {
        info = await jsm.streams
          .add({ name: o.stream, subjects: [subject], num_replicas: o.replicas })
          .catch(() => jsm!.streams.info(o.stream)); // another node made it first
      }
      // The stream's creation time makes the epoch: a recreated stream is a new history, whoever recreated it.
      epoch = createHash("sha256").update(`${info.config.name}\n${info.created}`).digest("base64url").slice(0, 16);
      await new Kvm(setup).create(`${o.stream}-lease`, { ttl: o.leaseTtlMs, history: 1, replicas: o.replicas });
      const kv = await new Kvm(nc).open(`${o.stream}-lease`);
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
      store = await new Objm(setup).create(`${o.stream}-snap`, { replicas: o.replicas });
      // The snapshot, then the log after it. A purge between reading the one and the other (a newer snapshot) leaves a
      // gap: read both again.
      for (let attempt = 1; ; attempt++) {
        const stored = await readSnapshot();
        info = await jsm.streams.info(o.stream);
        applied = stored?.sequence ?? 0;
        snapshotSeq = applied;
        pending = null;
        const tail: Mutation[] = [];
        let gap = info.state.messages > 0 && info.state.first_seq > applied + 1;
        if (!gap) {
          await readUpTo(applied + 1, info.state.last_seq, (msg) => {
            if (gap || msg.seq <= applied) return;
            if (msg.seq > applied + 1) {
              gap = true;
              return;
            }
            const group = take(msg);
            applied = msg.seq;
            if (group) for (const m of group) tail.push(m);
          });
        }
        if (!gap) {
          jsm = await jetstreamManager(nc); // the default bound from here on (catch-up, watchdog, purge)
          return { epoch, snapshot: stored?.snapshot ?? null, tail };
        }
        if (attempt >= 3) {
          throw new SwitchboardError(
            "STORAGE_CORRUPT",
            `the cluster log starts at ${info.state.first_seq} but the snapshot covers only up to ${stored?.sequence ?? 0}`,
          );
        }
      }
    },

    async follow(apply, reset) {
      applyTail = apply;
      resetTail = reset;
      await startTail();
      startWatchdog();
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

    async compact(snapshot) {
      // Called between commits: the state handed here is the state at `applied`. Stored in the background.
      const sequence = applied;
      if (snapshotting || !isWriter() || sequence <= snapshotSeq) return;
      snapshotting = true;
      void writeSnapshot(snapshot, sequence)
        .catch((err: unknown) => log.warn({ err }, "storing the cluster snapshot failed"))
        .finally(() => {
          snapshotting = false;
        });
    },

    // Only the writer snapshots (every node holds the same state; one copy is enough), one at a time.
    wantsCompaction: () => !snapshotting && isWriter() && applied - snapshotSeq >= snapshotEvery,

    forward,

    serveForwarded(run) {
      runForwarded = run;
    },

    isHealthy: () => connected && !closed,

    isWriter,

    writer: () => lease?.holder ?? null,

    cluster: () => status(),

    async close() {
      if (closed) return;
      closed = true;
      writerTerm = 0;
      await lease?.stop().catch(() => undefined);
      tailGeneration++;
      if (watchdog) clearInterval(watchdog);
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
      streamSequence: Math.max(streamLast, applied),
      lag: Math.max(0, streamLast - applied),
      tailRestarts: restarts,
      snapshotSequence: snapshotSeq,
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
