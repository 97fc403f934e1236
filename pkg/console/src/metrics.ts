// Reads the long-poll wake-latency histogram out of the Prometheus text of GET /metrics.

export interface WakeFigures {
  readonly kind: string;
  readonly count: number;
  readonly meanMs: number;
  /** Upper bound of the bucket holding the 50th / 99th percentile, ms (null: above the last bound). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

const METRIC = "switchboard_long_poll_wake_seconds";

export function wakeFigures(text: string): WakeFigures[] {
  const buckets = new Map<string, [number, number][]>();
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(METRIC)) continue;
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    const kind = labels.kind ?? "";
    const v = Number(m[3]);
    if (m[1] === `${METRIC}_bucket` && labels.le !== undefined) {
      const le = labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(labels.le);
      const list = buckets.get(kind) ?? [];
      list.push([le, v]);
      buckets.set(kind, list);
    } else if (m[1] === `${METRIC}_sum`) sums.set(kind, v);
    else if (m[1] === `${METRIC}_count`) counts.set(kind, v);
  }
  const out: WakeFigures[] = [];
  for (const [kind, count] of counts) {
    const list = (buckets.get(kind) ?? []).sort((a, b) => a[0] - b[0]);
    const quantile = (q: number): number | null => {
      const bound = list.find(([, c]) => c >= q * count)?.[0];
      return bound === undefined || !Number.isFinite(bound) ? null : bound * 1000;
    };
    out.push({
      kind,
      count,
      meanMs: count > 0 ? ((sums.get(kind) ?? 0) / count) * 1000 : 0,
      p50Ms: count > 0 ? quantile(0.5) : null,
      p99Ms: count > 0 ? quantile(0.99) : null,
    });
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind));
}
