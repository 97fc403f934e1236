// Benchmark 4: etcd as a second baseline. Its figures are taken inside benchmarks 1 and 3 (same rounds, same
// load generators, alternating with Switchboard); this section sets them side by side.

import type { Section } from "./lib/report.js";
import { int, median, ms, percentile, ratio, table } from "./lib/stats.js";
import type { PutResult } from "./put-throughput.bench.js";
import { find, WAKE_HEAD, type WakeResult, wakeRow } from "./wake-latency.bench.js";

export function etcdSection(
  etcd: { version: string } | null,
  failure: string | null,
  put: readonly PutResult[],
  wake: readonly WakeResult[],
): Section {
  const title = "4. etcd baseline";
  if (!etcd) {
    return {
      title,
      body: [
        `etcd was not measured in this run: ${failure ?? "unknown reason"}.`,
        "The bare hono baseline above still stands. To include etcd, install it (Debian: `apt-get install -y",
        "etcd-server`) and run `npm run bench` again; it is started on 127.0.0.1:23790/23800 with a temp data dir.",
      ].join("\n"),
      targets: [],
    };
  }
  const etcdPut = put.find((r) => r.target === "etcd");
  const putRows = put
    .filter((r) => r.target === "etcd" || r.target === "strict" || r.target === "relaxed" || r.target === "memory")
    .map((r) => {
      const rps = median(r.slices.map((s) => s.reqPerSec));
      // Per round, against etcd's slice of the same round.
      const vsEtcd = etcdPut ? median(r.slices.map((s, i) => s.reqPerSec / etcdPut.slices[i]!.reqPerSec)) : Number.NaN;
      return [r.label, int(rps), r === etcdPut ? "1 (baseline)" : ratio(vsEtcd, 1), ratio(median(r.ratios), 1)];
    });
  const sizes = [...new Set(wake.filter((r) => r.kind === "etcd").map((r) => r.consumers))];
  const wakeRows = sizes.flatMap((n) => {
    const base = find(wake, "etcd", n);
    return [find(wake, "switchboard", n), base]
      .filter((r): r is WakeResult => r !== undefined)
      .map((r) => wakeRow(r, base));
  });
  const body = [
    `etcd ${etcd.version} (Debian's etcd-server), one member, on 127.0.0.1:23790 (client) / 23800 (peer) with a`,
    "temp data dir, default settings (it fsyncs its WAL before acknowledging, like Switchboard's strict mode).",
    "It was driven through its HTTP/JSON gateway, so both sides pay for HTTP/1.1 + JSON: writes are",
    "`POST /v3/kv/put {key, value}` (base64), one key per connection, by the same autocannon run as benchmark 3",
    "(its slices alternate with the other servers'); wake-ups use `POST /v3/watch {create_request: {key}}`",
    "streams held by the same load workers as benchmark 1, and the same rounds: t0, the put, the arrival of",
    "the event on every stream. Unlike a long-poll, a watch stream is not re-armed between rounds.",
    "etcd is a Go program and uses both cores of this machine; the Switchboard server is one Node.js thread.",
    "",
    "**Writes** (64 connections):",
    "",
    table(["server", "req/s (median)", "vs etcd", "vs bare hono"], putRows),
    "",
    "**Wake-ups** (Switchboard's latency includes its re-armed long-poll's answer; etcd's, one stream message):",
    "",
    table(
      WAKE_HEAD.map((h) => h.replace("baseline", "etcd")),
      wakeRows,
    ),
    ...(sizes.length > 0
      ? [
          "",
          sizes
            .map((n) => {
              const sb = find(wake, "switchboard", n);
              const e = find(wake, "etcd", n);
              return sb && e
                ? `At ${int(n)} waiters Switchboard's p99 is ${ms(percentile(sb.perConsumer, 99))} against etcd's ${ms(percentile(e.perConsumer, 99))}.`
                : "";
            })
            .join(" "),
        ]
      : []),
  ].join("\n");
  return { title, body, targets: [] };
}
