// The shapes of health: a check's verdict as cached, published in metadata.health and answered.

export type HealthStatus = "passing" | "warning" | "critical";

export const HEALTH_STATUSES: readonly HealthStatus[] = ["passing", "warning", "critical"];

/** One check's verdict. Published as a register's `metadata.health`. */
export interface HealthResult {
  readonly status: HealthStatus;
  /** Epoch ms of the check. */
  readonly checkedAt: number;
  readonly latencyMs: number;
  /** What the probe saw (status line and the start of the body, or the error), short. */
  readonly output: string;
}

/** The metadata key a register's health is published under. */
export const HEALTH_KEY = "health";

/** Reads a published or cached verdict back; null when the value is not one. */
export function asHealthResult(v: unknown): HealthResult | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!HEALTH_STATUSES.includes(o.status as HealthStatus)) return null;
  if (typeof o.checkedAt !== "number" || typeof o.latencyMs !== "number" || typeof o.output !== "string") return null;
  return { status: o.status as HealthStatus, checkedAt: o.checkedAt, latencyMs: o.latencyMs, output: o.output };
}
