// Three cluster members (child processes from dist/) on the local NATS JetStream: cross-node wake, NOT_WRITER, identical state, writer kill -9.

import { afterEach, describe, expect, it } from "vitest";
import { type ClusterNode, cleanUp, put, putAnywhere, startNode, uniqueStream } from "../helpers/cluster-nodes.js";

interface ConsumerAnswer {
  index: number;
  epoch: string;
  registers: { name: string; found: boolean; value?: unknown; modRevision?: number }[];
}

async function consumer(node: ClusterNode, query: string): Promise<ConsumerAnswer> {
  const res = await fetch(`${node.url}/consumer?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as ConsumerAnswer;
}

/** Waits (by long-polling, not sleeping) until `node` has applied revision `index`. */
async function reach(node: ClusterNode, index: number): Promise<ConsumerAnswer> {
  for (let i = 0; i < 50; i++) {
    const seen = await consumer(node, "prefix=&index=0");
    if (seen.index >= index) return seen;
    await consumer(node, `prefix=&index=${seen.index}&wait=2s`);
  }
  throw new Error(`${node.nodeId} never reached revision ${index}`);
}

let stream = "";
afterEach(async () => {
  if (stream) await cleanUp(stream);
  stream = "";
});

async function threeNodes(env: Record<string, string> = {}): Promise<ClusterNode[]> {
  stream = uniqueStream();
  return Promise.all(["a", "b", "c"].map((id) => startNode(stream, `node-${id}`, env)));
}

describe("a three-node cluster on JetStream", () => {
  it("a write on the writer wakes long-polls on the other nodes; the others answer 503 NOT_WRITER naming it", async () => {
    const nodes = await threeNodes();
    const writer = await putAnywhere(nodes, { name: "x", value: 0 });
    const others = nodes.filter((n) => n !== writer);
    expect(others).toHaveLength(2);
    for (const n of others) await reach(n, 1);

    const refused = await put(others[0]!, { name: "x", value: "nope" });
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe("1");
    expect(refused.body.error).toMatchObject({ code: "NOT_WRITER", details: { writer: writer.nodeId } });

    for (let round = 1; round <= 5; round++) {
      const polls = others.map((n) => consumer(n, `name=x&index=${round}&wait=10s`));
      const started = Date.now();
      expect((await put(writer, { name: "x", value: round })).status).toBe(200);
      const answers = await Promise.all(polls);
      // Woken by the write, not by the 10 s timeout.
      expect(Date.now() - started).toBeLessThan(2000);
      for (const a of answers) {
        expect(a.index).toBe(round + 1);
        expect(a.registers[0]).toMatchObject({ name: "x", found: true, value: round, modRevision: round + 1 });
      }
    }
    for (const n of nodes) {
      const status = (await (await fetch(`${n.url}/status`)).json()) as { cluster: Record<string, unknown> };
      expect(status.cluster).toMatchObject({
        nodeId: n.nodeId,
        role: n === writer ? "writer" : "follower",
        writer: writer.nodeId,
        connected: true,
      });
      expect(status.cluster.appliedSequence).toBeGreaterThanOrEqual(6);
    }
    // The refused write left no trace anywhere.
    for (const n of nodes) expect((await consumer(n, "name=x")).registers[0]).toMatchObject({ value: 5 });
    const epochs = new Set(await Promise.all(nodes.map(async (n) => (await consumer(n, "name=x")).epoch)));
    expect(epochs.size).toBe(1);
  });

  it("concurrent writes through all nodes leave identical state with revisions 1..R and no gap", async () => {
    const nodes = await threeNodes();
    const perClient = 30;
    await Promise.all(
      nodes.map(async (start, c) => {
        // Each client starts at its own node and follows NOT_WRITER's hint.
        const order = [start, ...nodes.filter((n) => n !== start)];
        for (let i = 0; i < perClient; i++) await putAnywhere(order, { name: `k/${c}/${i}`, value: i });
      }),
    );
    const total = nodes.length * perClient;
    const states = await Promise.all(nodes.map((n) => reach(n, total)));
    for (const s of states) {
      expect(s.index).toBe(total);
      expect(s.registers).toEqual(states[0]!.registers);
    }
    const revisions = states[0]!.registers.map((r) => r.modRevision!).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it("kill -9 of the writer loses no acknowledged write, and writes resume within TTL + 1 s", async () => {
    const ttlMs = 1000;
    const nodes = await threeNodes({ SWITCHBOARD_CLUSTER_LEASE_TTL: `${ttlMs}ms` });
    const acked: number[] = [];
    let writer = await putAnywhere(nodes, { name: "w/0", value: 0 });
    acked.push(0);
    // Writes in flight while the writer dies: those answered 200 must survive.
    const inFlight = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        put(writer, { name: `w/${i + 1}`, value: i + 1 }).then(
          (a) => (a.status === 200 ? acked.push(i + 1) : 0),
          () => 0,
        ),
      ),
    );
    await writer.kill();
    const killedAt = Date.now();
    await inFlight;
    const survivors = nodes.filter((n) => n !== writer);
    writer = await putAnywhere(survivors, { name: "after", value: 1 }, ttlMs + 3000);
    const resumedMs = Date.now() - killedAt;
    expect(resumedMs).toBeLessThan(ttlMs + 1000);

    const index = (await consumer(writer, "name=after")).index;
    for (const n of survivors) {
      const state = await reach(n, index);
      const names = new Set(state.registers.filter((r) => r.found).map((r) => r.name));
      for (const i of acked) expect(names.has(`w/${i}`)).toBe(true);
      expect(names.has("after")).toBe(true);
      expect(state.registers).toEqual((await reach(writer, index)).registers);
    }
  });
});
