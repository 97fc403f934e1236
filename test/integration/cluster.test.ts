// Three cluster members (child processes from dist/) on the local NATS JetStream: cross-node wake, write forwarding, identical state, writer kill -9.

import { afterEach, describe, expect, it } from "vitest";
import {
  type ClusterNode,
  cleanUp,
  consumer,
  findWriter,
  put,
  putAnywhere,
  reach,
  startNode,
  uniqueStream,
} from "../helpers/cluster-nodes.js";

let stream = "";
afterEach(async () => {
  if (stream) await cleanUp(stream);
  stream = "";
});

async function threeNodes(env: Record<string, string> = {}): Promise<ClusterNode[]> {
  stream = uniqueStream();
  return Promise.all(["a", "b", "c"].map((id) => startNode(stream, `node-${id}`, env)));
}

describe("a three-node cluster on JetStream", { timeout: 90_000 }, () => {
  it("a write on the writer wakes long-polls on the other nodes; a follower forwards writes and reads its own at once", async () => {
    const nodes = await threeNodes();
    await putAnywhere(nodes, { name: "x", value: 0 });
    const writer = await findWriter(nodes);
    const others = nodes.filter((n) => n !== writer);
    expect(others).toHaveLength(2);
    for (const n of others) await reach(n, 1);

    // Forwarded to the writer; answered once this follower applied it (read-your-writes without waiting).
    const forwarded = await put(others[0]!, { name: "x", value: "via follower" });
    expect(forwarded.status).toBe(200);
    expect((await consumer(others[0]!, "name=x")).registers[0]).toMatchObject({
      value: "via follower",
      modRevision: 2,
    });
    // The writer's refusals come back unchanged (a failed compare-and-set is a 409 with its details).
    const conflict = await put(others[1]!, { name: "x", value: "stale", ifVersion: 1 });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: "VERSION_CONFLICT" });
    // Revert to the value the rounds below expect, through the other follower.
    expect((await put(others[1]!, { name: "x", value: 0 })).status).toBe(200);
    await reach(writer, 3);

    for (let round = 1; round <= 5; round++) {
      const polls = others.map((n) => consumer(n, `name=x&index=${round + 2}&wait=10s`));
      const started = Date.now();
      expect((await put(writer, { name: "x", value: round })).status).toBe(200);
      const answers = await Promise.all(polls);
      // Woken by the write, not by the 10 s timeout.
      expect(Date.now() - started).toBeLessThan(2000);
      for (const a of answers) {
        expect(a.index).toBe(round + 3);
        expect(a.registers[0]).toMatchObject({ name: "x", found: true, value: round, modRevision: round + 3 });
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
      expect(status.cluster.appliedSequence).toBeGreaterThanOrEqual(8);
    }
    for (const n of nodes) expect((await consumer(n, "name=x")).registers[0]).toMatchObject({ value: 5 });
    const epochs = new Set(await Promise.all(nodes.map(async (n) => (await consumer(n, "name=x")).epoch)));
    expect(epochs.size).toBe(1);
  });

  it("concurrent writes through all nodes leave identical state with revisions 1..R and no gap", async () => {
    const nodes = await threeNodes();
    const perClient = 30;
    await Promise.all(
      nodes.map(async (start, c) => {
        // Each client writes through its own node (a follower forwards to the writer).
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
    // 2 s (the default): the follower's NO_WRITER check below must run before the dead writer's lease runs out.
    const ttlMs = 2000;
    const nodes = await threeNodes({ SWITCHBOARD_CLUSTER_LEASE_TTL: `${ttlMs}ms` });
    const acked: number[] = [];
    await putAnywhere(nodes, { name: "w/0", value: 0 });
    let writer = await findWriter(nodes);
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
    // The lease still names the dead node: a follower answers NO_WRITER at once instead of hanging.
    const askedAt = Date.now();
    const refused = await put(survivors[0]!, { name: "during", value: 1 });
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe("1");
    expect(refused.body.error).toMatchObject({ code: "NO_WRITER" });
    expect(Date.now() - askedAt).toBeLessThan(500);
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
