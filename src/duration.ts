// Durations as the API and the config accept them: 30 (seconds), "30", "30s", "500ms", "5m", "1h", "1m30s".

import { SwitchboardError } from "./core/index.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses a duration into milliseconds; throws INVALID_DURATION with the field name. */
export function parseDuration(input: unknown, field = "duration"): number {
  const fail = () =>
    new SwitchboardError("INVALID_DURATION", `${field}: expected seconds or a duration like "500ms", "30s", "5m"`, {
      details: { field, value: input },
    });
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) throw fail();
    return Math.round(input * 1000);
  }
  if (typeof input !== "string") throw fail();
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (s.length === 0 || s.length > 32) throw fail();
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) throw fail();
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (!Number.isFinite(total)) throw fail();
  return Math.round(total);
}

/** Formats milliseconds for logs and help texts. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
