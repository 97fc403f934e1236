// A load worker holding one @switchboard/client with many subscriptions of one register (they share the client's
// one consumer long-poll), reporting when each subscription saw the round's value. Times with nowMs
// (CLOCK_MONOTONIC, shared by every process of the machine), as the other workers do.

import { SwitchboardClient } from "@switchboard/client";
import { nowMs } from "../lib/children.js";
import type { WorkerIn, WorkerOut } from "./protocol.js";

const send = (m: WorkerOut) => process.send?.(m);

let client: SwitchboardClient | undefined;
let count = 0;
let expecting: { round: number; times: number[]; bad: number; badSample?: string } | undefined;

function seen(value: unknown): void {
  const at = nowMs();
  const e = expecting;
  if (!e) return;
  const round = (value as { round?: unknown } | undefined)?.round;
  if (round === e.round) e.times.push(at);
  else {
    e.bad++;
    e.badSample ??= JSON.stringify(value).slice(0, 300);
  }
  if (e.times.length + e.bad === count) {
    expecting = undefined;
    send({ type: "done", times: e.times, bad: e.bad, ...(e.badSample ? { badSample: e.badSample } : {}) });
  }
}

function open(url: string, name: string, n: number): void {
  client = new SwitchboardClient({ url });
  count = n;
  let ready = 0;
  for (let i = 0; i < n; i++) {
    const sub = client.consume(name);
    (async () => {
      let first = true;
      for await (const item of sub) {
        if (first) {
          first = false;
          if (++ready === n) send({ type: "ready" });
          continue;
        }
        seen(item.found ? item.value : undefined);
      }
    })().catch((err: unknown) => send({ type: "error", message: String(err) }));
  }
}

process.on("message", (raw) => {
  const m = raw as WorkerIn;
  if (m.type === "client-open") open(m.url, m.name, m.count);
  else if (m.type === "client-expect") {
    expecting = { round: m.round, times: [], bad: 0 };
    send({ type: "armed" });
  } else send({ type: "error", message: `the client worker does not take ${m.type}` });
});

process.on("disconnect", () => {
  void client?.close().finally(() => process.exit(0));
});
