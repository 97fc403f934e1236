// Three cluster members (child processes from dist/) on the local JetStream: a client hopping nodes, a paused writer,
// change requests across a failover, snapshots with a purged log (a late joiner, a paused follower that finds a gap).

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ClusterNode,
  cleanUp,
  consumer,
  findWriter,
  NATS_URL,
  put,
  putAnywhere,
  reach,
  startNode,
  uniqueStream,
} from "../helpers/cluster-nodes.js";

async function clusterStatus(node: ClusterNode): Promise<Record<string, number | string | null>> {
  return ((await (await fetch(`${node.url}/status`)).json()) as { cluster: Record<string, number | string | null> })
    .cluster;
}

let stream = "";
afterEach(async () => {
  if (stream) await cleanUp(stream);
  stream = "";
});

async function nodes(ids: string[], env: Record<string, string> = {}): Promise<ClusterNode[]> {
  stream ||= uniqueStream();
  return Promise.all(ids.map((id) => startNode(stream, `node-${id}`, env)));
}

describe("cluster failover", { timeout: 90_000 }, () => {
  it("a client that switches node after every answer sees every revision once, in order", async () => {
    const all = await nodes(["a", "b", "c"]);
    await putAnywhere(all, { name: "seq", value: 0 });
    const total = 40;
    const seen: number[] = [];
    // The reader hops a, b, c, a … with the index the previous node answered; a node behind waits for its tail.
    const reader = (async () => {
      let index = (await consumer(all[0]!, "name=seq")).index;
      for (let hop = 1; seen.length < total && hop < total * 5; hop++) {
        const a = await consumer(all[hop % 3]!, `name=seq&index=${index}&wait=5s`);
        expect(a.resync).not.toBe(true);
        if (a.index > index) seen.push(a.registers[0]!.value as number);
        index = a.index;
      }
    })();
    // Writes through every node in turn, each after the previous was answered.
    for (let i = 1; i <= total; i++) {
      expect((await put(all[i % 3]!, { name: "seq", value: i })).status).toBe(200);
      // One write per revision the reader can observe: wait until it saw this one.
      for (let n = 0; n < 200 && !seen.includes(i); n++) await new Promise((r) => setTimeout(r, 5));
    }
    await reader;
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it("a paused writer that wakes after losing its lease cannot commit; requests stay at-least-once across the failover", async () => {
    const ttlMs = 1000;
    const all = await nodes(["a", "b", "c"], { SWITCHBOARD_CLUSTER_LEASE_TTL: `${ttlMs}ms` });
    await putAnywhere(all, { name: "dev", value: 0 });
    const old = await findWriter(all);
    const [a, b, c] = [old, ...all.filter((n) => n !== old)] as [ClusterNode, ClusterNode, ClusterNode];
    // Queued on A (the writer), seen by a provider polling B.
    const queued = await fetch(`${a.url}/consumer`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requests: [{ name: "dev", value: "on", expiresIn: "3s" }] }),
    });
    expect(queued.status).toBe(202);
    const ids = ((await queued.json()) as { requests: { id: number }[] }).requests.map((r) => r.id);
    const polled = (await (await fetch(`${b.url}/provider?name=dev&wait=5s`)).json()) as {
      requests: { id: number }[];
    };
    expect(polled.requests.map((r) => r.id)).toEqual(ids);
    // B forwarded its delivery mark to the writer, and the log carried it to C: delivered, so it no longer expires.
    for (const n of [a, c]) {
      let status = "";
      for (let i = 0; i < 100 && status !== "delivered"; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        status = ((await (await fetch(`${n.url}/consumer/requests/${ids[0]}`)).json()) as { status: string }).status;
      }
      expect(status).toBe("delivered");
    }

    a.signal("SIGSTOP");
    try {
      const survivors = [b, c];
      const next = await findWriter(survivors, ttlMs * 6);
      // The request is still queued after the failover (nothing acknowledged it).
      const again = (await (await fetch(`${c.url}/provider?name=dev&wait=0`)).json()) as { requests: { id: number }[] };
      expect(again.requests.map((r) => r.id)).toEqual(ids);
      await putAnywhere([next], { name: "dev", value: 1 });
    } finally {
      a.signal("SIGCONT");
    }
    // The old writer woke past its lease: a write sent to it is forwarded (or refused), never committed on its own.
    const late = await put(a, { name: "late", value: 1 });
    expect([200, 503]).toContain(late.status);
    // Acknowledged on C (a provider poll with after = the id).
    const acked = await fetch(`${c.url}/provider?name=dev&after=${ids.at(-1)}&wait=0`);
    expect(acked.status).toBe(200);
    expect(((await acked.json()) as { requests: unknown[] }).requests).toEqual([]);

    const index = Math.max(...(await Promise.all(all.map(async (n) => (await consumer(n, "name=dev")).index))));
    const states = await Promise.all(all.map((n) => reach(n, index)));
    for (const s of states) expect(s.registers).toEqual(states[0]!.registers);
    const revisions = states[0]!.registers.map((r) => r.modRevision!);
    expect(new Set(revisions).size).toBe(revisions.length);
    for (const n of all) expect((await (await fetch(`${n.url}/provider?name=dev&wait=0`)).json()).requests).toEqual([]);
  });

  it("after snapshots purge the log, a new node and a paused follower (a gap) converge", async () => {
    const env = { SWITCHBOARD_CLUSTER_SNAPSHOT_EVERY: "20", SWITCHBOARD_CLUSTER_SNAPSHOT_MARGIN: "5" };
    const all = await nodes(["a", "b"], env);
    await putAnywhere(all, { name: "r/0", value: 0 });
    const writer = await findWriter(all);
    const follower = all.find((n) => n !== writer)!;
    await reach(follower, 1);
    follower.signal("SIGSTOP");
    let total = 1;
    try {
      for (let i = 1; i < 80; i++, total++)
        expect((await put(writer, { name: `r/${i % 30}`, value: i })).status).toBe(200);
      // Wait for a snapshot at or past 60 entries and its purge.
      for (let n = 0; n < 100 && Number((await clusterStatus(writer)).snapshotSequence) < 60; n++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      follower.signal("SIGCONT");
    }
    const nc = await connect({ servers: NATS_URL });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(stream);
      expect(info.state.first_seq).toBeGreaterThan(2);
    } finally {
      await nc.close();
    }
    const [late] = await nodes(["late"], env);
    const want = await reach(writer, total);
    for (const n of [follower, late!]) {
      const s = await reach(n, total);
      expect(s.registers).toEqual(want.registers);
    }
    expect(Number((await clusterStatus(late!)).snapshotSequence)).toBeGreaterThan(0);
    // Writes go on through the new node.
    expect((await put(late!, { name: "r/late", value: 1 })).status).toBe(200);
  });
});
