// Three cluster members (dist/ child processes) on the local JetStream: a write acknowledged on any node wakes the
// long-polls held on the other two, measured from the acknowledgement, over 1,000 rounds — idle, and while other
// writers keep every node busy.

import { afterEach, describe, expect, it } from "vitest";
import { type ClusterNode, cleanUp, put, putAnywhere, startNode, uniqueStream } from "../helpers/cluster-nodes.js";

let stream = "";
afterEach(async () => {
  if (stream) await cleanUp(stream);
  stream = "";
});

async function held(node: ClusterNode, index: number): Promise<{ at: number; index: number }> {
  const res = await fetch(`${node.url}/consumer?name=w&index=${index}&wait=10s`);
  const body = (await res.json()) as { index: number };
  return { at: performance.now(), index: body.index };
}

/** Writers on every node, each writing batches of 10 registers back to back until `stop` (at most 60 s). */
function load(nodes: readonly ClusterNode[], stop: AbortSignal): { done: Promise<number> } {
  const until = Date.now() + 60_000;
  const writers = nodes.map(async (n, w) => {
    let writes = 0;
    for (let i = 0; !stop.aborted && Date.now() < until; i++) {
      const registers = Array.from({ length: 10 }, (_, k) => ({ name: `load/${w}/${k}`, value: i }));
      if ((await put(n, { registers })).status === 200) writes++;
    }
    return writes;
  });
  return { done: Promise.all(writers).then((counts) => counts.reduce((a, b) => a + b, 0)) };
}

describe("cross-node wake-up", () => {
  it.each([
    ["idle", false],
    ["under load (a writer per node)", true],
  ])(
    "%s: a write acknowledged on any node wakes long-polls on the others: p99 < 50 ms over 1,000 rounds",
    async (_, loaded) => {
      stream = uniqueStream();
      const nodes = await Promise.all(["a", "b", "c"].map((id) => startNode(stream, `wake-${id}`)));
      await putAnywhere(nodes, { name: "w", value: 0 });
      let index = 0;
      for (const n of nodes)
        index = Math.max(index, ((await (await fetch(`${n.url}/consumer?name=w`)).json()) as { index: number }).index);
      const lags: number[] = [];
      const rounds = 1000;
      const stop = new AbortController();
      const busy = loaded ? load(nodes, stop.signal) : undefined;
      for (let r = 1; r <= rounds; r++) {
        const via = nodes[r % 3]!;
        const others = nodes.filter((n) => n !== via);
        const polls = others.map((n) => held(n, index));
        // The polls are registered once their requests reached the servers; a short pause lets them arrive.
        await new Promise((res) => setTimeout(res, 1));
        const answer = await put(via, { name: "w", value: r });
        expect(answer.status).toBe(200);
        const ackedAt = performance.now();
        const woke = await Promise.all(polls);
        for (const w of woke) {
          expect(w.index).toBeGreaterThan(index);
          lags.push(Math.max(0, w.at - ackedAt));
        }
        index = answer.body.index ?? woke[0]!.index;
      }
      stop.abort();
      const loadWrites = (await busy?.done) ?? 0;
      if (loaded) expect(loadWrites).toBeGreaterThan(rounds);
      lags.sort((a, b) => a - b);
      const p50 = lags[Math.floor(lags.length * 0.5)]!;
      const p99 = lags[Math.floor(lags.length * 0.99)]!;
      console.log(
        `cross-node wake after the ack${loaded ? `, ${loadWrites} load writes beside` : ""}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
      );
      expect(p99).toBeLessThan(50);
    },
    180_000,
  );
});
