// The process's open-file limit (RLIMIT_NOFILE) and the connection limit derived from it.

import { readFileSync } from "node:fs";

/** The soft RLIMIT_NOFILE from /proc/self/limits, or null where that file does not exist (not Linux). */
export function openFileLimit(read: (path: string) => string = (p) => readFileSync(p, "utf8")): number | null {
  let text: string;
  try {
    text = read("/proc/self/limits");
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m?.[1]) return null;
  return m[1] === "unlimited" ? null : Number(m[1]);
}

/** Without a readable limit (not Linux): a figure most systems allow. */
const FALLBACK_CONNECTIONS = 10_000;

/**
 * Connections the HTTP port admits: the fd limit minus a reserve for the data directory, other listeners,
 * outgoing probes and the few connections kept for /healthz, /readyz and /metrics past the limit.
 * Over the fd limit accept() fails with EMFILE and nothing — health checks included — gets in.
 */
export function defaultMaxConnections(limit: number | null = openFileLimit()): number {
  if (limit === null) return FALLBACK_CONNECTIONS;
  const reserve = 64 + Math.ceil(limit * 0.02);
  return Math.max(16, limit - reserve);
}
