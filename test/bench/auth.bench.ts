// The cost of auth: PUT throughput and wake latency of a Switchboard with auth on (a token bound to a prefix
// policy, as a device would hold) against the same server with auth off, side by side in one run.
//
// Both servers are children started up front and measured in alternating slices/rounds (off, on, off, on …), so
// background load on a shared machine hits both sides of each ratio alike.

import http from "node:http";
import { join } from "node:path";
import { makeTempDir } from "../helpers/temp-dir.js";
import { nowMs, type ServerChild, startSwitchboardBinary } from "./lib/children.js";
import { load } from "./lib/load.js";
import type { Section } from "./lib/report.js";
import { int, median, ms, ratio, table } from "./lib/stats.js";

export interface AuthSettings {
  readonly connections: number;
  readonly slices: number;
  readonly sliceSeconds: number;
  readonly consumers: number;
  readonly rounds: number;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  connections: 64,
  slices: 3,
  sliceSeconds: 4,
  consumers: 1000,
  rounds: 10,
};

interface Side {
  readonly label: string;
  readonly server: ServerChild;
  readonly headers: Record<string, string>;
}

async function startSide(on: boolean, dir: string): Promise<Side> {
  const tokenFile = join(dir, `admin-${on ? "on" : "off"}.token`);
  const server = await startSwitchboardBinary(`switchboard :memory: auth ${on ? "on" : "off"}`, {
    dataDir: ":memory:",
    env: { SWITCHBOARD_AUTH: on ? "on" : "off", SWITCHBOARD_ADMIN_TOKEN_FILE: tokenFile },
  });
  if (!on) return { label: "auth off", server, headers: {} };
  const { readFile } = await import("node:fs/promises");
  const admin = { Authorization: `Bearer ${(await readFile(tokenFile, "utf8")).trim()}` };
  // A device's token: a policy over its prefix, not the admin short-cut.
  const rules = [{ prefix: "bench/", read: true, write: true, provide: true }];
  await fetch(`${server.url}/acl/policies/bench`, { method: "PUT", headers: admin, body: JSON.stringify({ rules }) });
  const created = await fetch(`${server.url}/acl/tokens`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ policies: ["bench"] }),
  });
  const { token } = (await created.json()) as { token: string };
  return { label: "auth on (prefix policy token)", server, headers: { Authorization: `Bearer ${token}` } };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
  });
}

async function put(side: Side, name: string, value: unknown): Promise<number> {
  const r = await fetch(`${side.server.url}/provider`, {
    method: "PUT",
    headers: side.headers,
    body: JSON.stringify({ name, value }),
  });
  if (r.status !== 200) throw new Error(`${side.label}: PUT answered ${r.status}`);
  return ((await r.json()) as { index: number }).index;
}

/** One wake round: `consumers` long-polls held on one register, one PUT; ms from the PUT to each answer. */
async function wakeRound(side: Side, consumers: number, round: number): Promise<number[]> {
  const index = await put(side, "bench/wake", round * 2);
  const url = `${side.server.url}/consumer?name=bench/wake&index=${index}&wait=60s`;
  let t0 = 0;
  const answers = Array.from({ length: consumers }, () =>
    get(url, side.headers).then((r) => {
      if (r.status !== 200) throw new Error(`${side.label}: poll answered ${r.status}`);
      return nowMs() - t0;
    }),
  );
  // Give every poll time to be held before the write (a poll that arrives late answers at once, counted as fast).
  await new Promise((r) => setTimeout(r, Math.min(2000, 200 + consumers)));
  t0 = nowMs();
  await put(side, "bench/wake", round * 2 + 1);
  return Promise.all(answers);
}

export async function runAuthBench(settings: AuthSettings, log: (s: string) => void): Promise<Section> {
  const dir = await makeTempDir("switchboard-bench-auth-");
  const off = await startSide(false, dir.path);
  const on = await startSide(true, dir.path);
  try {
    const body = (conn: number, n: number) => JSON.stringify({ name: `bench/put/c${conn}`, value: { n, ok: true } });
    const opts = (s: Side, seconds: number) => ({
      url: s.server.url,
      method: "PUT" as const,
      path: "/provider",
      body,
      connections: settings.connections,
      seconds,
      headers: s.headers,
    });
    await load(opts(off, 1));
    await load(opts(on, 1));
    const rps = { off: [] as number[], on: [] as number[], ratios: [] as number[], failures: 0 };
    for (let i = 0; i < settings.slices; i++) {
      const a = await load(opts(off, settings.sliceSeconds));
      const b = await load(opts(on, settings.sliceSeconds));
      rps.off.push(a.reqPerSec);
      rps.on.push(b.reqPerSec);
      rps.ratios.push(b.reqPerSec / a.reqPerSec);
      rps.failures += a.failures + b.failures;
      log(`  PUT slice ${i + 1}: off ${int(a.reqPerSec)} req/s, on ${int(b.reqPerSec)} req/s`);
    }
    const wake = { off: [] as number[], on: [] as number[], offLast: [] as number[], onLast: [] as number[] };
    for (let round = 0; round <= settings.rounds; round++) {
      const a = await wakeRound(off, settings.consumers, round);
      const b = await wakeRound(on, settings.consumers, round);
      if (round === 0) continue; // warm-up
      wake.off.push(...a);
      wake.on.push(...b);
      wake.offLast.push(Math.max(...a));
      wake.onLast.push(Math.max(...b));
    }
    const putRatio = median(rps.ratios);
    const wakeRatio = median(wake.onLast) / median(wake.offLast);
    log(`  PUT on/off ${putRatio.toFixed(2)}×, wake (last answer) on/off ${wakeRatio.toFixed(2)}×`);
    const body1 = [
      `PUT /provider, ${settings.connections} keep-alive connections, ${settings.slices} alternating slices of ${settings.sliceSeconds} s (failures: ${rps.failures}); wake: ${settings.consumers} long-polls on one register, ${settings.rounds} rounds, alternating.`,
      "",
      table(
        ["", "auth off", "auth on", "on ÷ off"],
        [
          ["PUT req/s (median slice)", int(median(rps.off)), int(median(rps.on)), ratio(putRatio, 1)],
          [
            "wake p50 per consumer",
            ms(median(wake.off)),
            ms(median(wake.on)),
            ratio(median(wake.on), median(wake.off)),
          ],
          ["wake, last of the round (median)", ms(median(wake.offLast)), ms(median(wake.onLast)), ratio(wakeRatio, 1)],
        ],
      ),
    ].join("\n");
    return {
      title: "Auth cost (on vs off)",
      body: body1,
      targets: [
        {
          what: "auth on: PUT throughput (on ÷ off)",
          target: "≥ 0.90×",
          measured: ratio(putRatio, 1),
          pass: putRatio >= 0.9,
        },
        {
          what: "auth on: wake latency, last answer (on ÷ off)",
          target: "≤ 1.10×",
          measured: ratio(wakeRatio, 1),
          pass: wakeRatio <= 1.1,
        },
      ],
    };
  } finally {
    await off.server.stop();
    await on.server.stop();
    await dir.cleanup();
  }
}
