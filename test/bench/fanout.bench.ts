// Fan-out at the floor: N held long-polls woken by one write on Switchboard and on bare node:http answering
// every held request with one shared Buffer (the floor), rounds alternating, the warm-up round dropped.

import type { Section, TargetResult } from "./lib/report.js";
import { int, mib, ms, percentile, ratio, table } from "./lib/stats.js";
import { longPollDriver, type WakeDriver } from "./lib/wake-drivers.js";
import { measureSize, type WakeResult } from "./wake-latency.bench.js";

export interface FanoutSettings {
  readonly sizes: readonly number[];
  readonly rounds: (n: number) => number;
}

export const DEFAULT_FANOUT_SETTINGS: FanoutSettings = {
  sizes: [1000, 10_000],
  rounds: (n) => (n <= 1000 ? 100 : 20),
};

export async function runFanoutBench(settings: FanoutSettings, log: (s: string) => void): Promise<Section> {
  const results: WakeResult[] = [];
  const failures: string[] = [];
  for (const n of settings.sizes) {
    const drivers: WakeDriver[] = [];
    try {
      drivers.push(await longPollDriver("switchboard", n));
      drivers.push(await longPollDriver("floor", n));
      for (const r of await measureSize(n, drivers, settings.rounds(n))) {
        log(
          `  ${r.label.padEnd(27)} N=${String(n).padStart(6)}: p50 ${ms(percentile(r.perConsumer, 50))}, p99 ${ms(percentile(r.perConsumer, 99))}, write ack p50 ${ms(percentile(r.writeAck, 50))}`,
        );
        results.push(r);
      }
    } catch (err) {
      const message = `N=${int(n)}: ${(err as Error).message}`;
      log(`  FAILED ${message}`);
      failures.push(message);
    } finally {
      for (const d of drivers) await d.close();
    }
  }
  const find = (kind: string, n: number) => results.find((r) => r.kind === kind && r.consumers === n);
  const targets: TargetResult[] = [];
  const rows: string[][] = [];
  for (const n of settings.sizes) {
    const sb = find("switchboard", n);
    const floor = find("floor", n);
    for (const r of [sb, floor]) {
      if (!r) continue;
      rows.push([
        r.label,
        int(n),
        `${r.rounds} × ${int(n)}`,
        ms(percentile(r.perConsumer, 50)),
        ms(percentile(r.perConsumer, 99)),
        ms(percentile(r.writeAck, 50)),
        mib(r.rssHeld),
        floor && r !== floor ? ratio(percentile(r.perConsumer, 50), percentile(floor.perConsumer, 50)) : "",
      ]);
    }
    if (!sb || !floor) continue;
    const p50 = percentile(sb.perConsumer, 50);
    const p99 = percentile(sb.perConsumer, 99);
    const f50 = percentile(floor.perConsumer, 50);
    const f99 = percentile(floor.perConsumer, 99);
    if (n === 1000) {
      targets.push({
        what: "1,000 long-polls: Switchboard p50 vs the bare node:http floor",
        target: "≤ 1.15×",
        measured: `${ms(p50)} vs ${ms(f50)} (${ratio(p50, f50)})`,
        pass: p50 <= 1.15 * f50,
      });
    }
    if (n === 10_000) {
      targets.push({
        what: "10,000 long-polls: Switchboard p99 vs the floor",
        target: "≤ 1.2×",
        measured: `${ms(p99)} vs ${ms(f99)} (${ratio(p99, f99)})`,
        pass: p99 <= 1.2 * f99,
      });
    }
  }
  targets.push(
    {
      what: "server CPU per change (long-polls, SSE)",
      target: "≤ 1.5× / 1.3× the floors",
      measured: "not measured by this bench yet",
      pass: null,
    },
    {
      what: "longest stall of an unrelated request during a 10,000 wake",
      target: "< 50 ms",
      measured: "checked by test/integration/fanout.test.ts, not measured here",
      pass: null,
    },
  );
  const body = [
    "N held `GET /consumer` long-polls on one register, woken by one `PUT /provider`; per-consumer latency from",
    "sending the write to each answer's arrival. The floor is bare node:http answering the write, then every",
    "held request with one shared Buffer (test/bench/servers/bare-node.ts). Rounds alternate between the two",
    "servers; the first (warm-up) round is dropped.",
    "",
    table(["server", "polls", "rounds", "p50", "p99", "write ack p50", "RSS held", "p50 vs floor"], rows),
    ...(failures.length > 0 ? ["", `Failed: ${failures.join("; ")}`] : []),
  ].join("\n");
  return { title: "Fan-out at the floor", body, targets };
}
