// The health checker: cached verdicts (HealthCache) else one live probe per target at a time, published as metadata.health on a status change.

import type { Logger } from "pino";
import type { HealthCache, Register, Switchboard } from "../../core/index.js";
import { probeHttp, probeTcp } from "./probe.js";
import { type Target, targetOf } from "./target.js";
import { asHealthResult, HEALTH_KEY, type HealthResult, type HealthStatus } from "./types.js";

export interface HealthCheckerOptions {
  readonly core: Switchboard;
  readonly cache: HealthCache;
  readonly log: Logger;
  /** How long a verdict is trusted, ms (the cache TTL). */
  readonly cacheTtlMs: number;
  /** Deadline of one probe, ms. */
  readonly timeoutMs: number;
  /** Bytes of a health response body read at most. */
  readonly maxBodyBytes?: number;
}

export interface HealthCheckerStats {
  readonly probes: Record<HealthStatus, number>;
  /** Cache reads or writes that failed (each time, a live probe stood in). */
  readonly cacheErrors: number;
  /** Status changes written to registers. */
  readonly published: number;
}

/** The fingerprint a cached verdict carries: a verdict about another endpoint is a miss. */
function fingerprint(t: Target): string {
  const c = t.check;
  const check = c.kind === "http" ? c.url.href : c.kind === "tcp" ? `${c.host}:${c.port}` : c.kind;
  return `${c.kind} ${check} ${t.endpoint ? `${t.endpoint.host}:${t.endpoint.port}` : "-"}`;
}

export class HealthChecker {
  readonly #o: HealthCheckerOptions;
  readonly #maxBody: number;
  /** One live probe per register at a time: concurrent askers share it (no stampede on a miss). */
  readonly #inFlight = new Map<string, Promise<HealthResult>>();
  readonly #probes: Record<HealthStatus, number> = { passing: 0, warning: 0, critical: 0 };
  #cacheErrors = 0;
  #cacheFailing = false;
  #published = 0;

  constructor(options: HealthCheckerOptions) {
    this.#o = options;
    this.#maxBody = options.maxBodyBytes ?? 4096;
  }

  /** The cache backend's name and whether it answered its last call. */
  cacheState(): { backend: string; reachable: boolean } {
    // The adapter knows its connection best; one that cannot tell is judged by its last call.
    const reachable = this.#o.cache.isHealthy ? this.#o.cache.isHealthy() : !this.#cacheFailing;
    return { backend: this.#o.cache.name, reachable };
  }

  stats(): HealthCheckerStats {
    return { probes: { ...this.#probes }, cacheErrors: this.#cacheErrors, published: this.#published };
  }

  /** The register's health: the cached verdict while it is fresh, else a live check. Null for a register that is not a target. */
  async status(name: string): Promise<HealthResult | null> {
    const register = this.#o.core.get(name);
    const target = register ? targetOf(register) : null;
    if (!register || !target) return null;
    const cached = await this.#cached(target);
    return cached ?? this.#checkOnce(register, target);
  }

  /** Checks now (whatever the cache holds), caches and publishes the verdict. Null when the register is not a target. */
  async check(name: string): Promise<HealthResult | null> {
    const register = this.#o.core.get(name);
    const target = register ? targetOf(register) : null;
    if (!register || !target) return null;
    return this.#checkOnce(register, target);
  }

  #checkOnce(register: Register, target: Target): Promise<HealthResult> {
    const running = this.#inFlight.get(target.name);
    if (running) return running;
    const p = this.#run(register, target).finally(() => this.#inFlight.delete(target.name));
    this.#inFlight.set(target.name, p);
    return p;
  }

  async #run(register: Register, target: Target): Promise<HealthResult> {
    const result = await this.#probe(register, target);
    this.#probes[result.status]++;
    await this.#store(target, result);
    await this.#publish(target.name, result);
    return result;
  }

  #probe(register: Register, target: Target): Promise<HealthResult> {
    const now = () => this.#o.core.clock.now();
    const opts = { timeoutMs: this.#o.timeoutMs, maxBodyBytes: this.#maxBody, now };
    const c = target.check;
    switch (c.kind) {
      case "http":
        return probeHttp(c.url, opts);
      case "tcp":
        return probeTcp(c.host, c.port, opts);
      case "ttl": {
        const lease =
          register.expiresAt === null ? "no lease" : `lease holds until ${new Date(register.expiresAt).toISOString()}`;
        return Promise.resolve({ status: "passing", checkedAt: now(), latencyMs: 0, output: lease });
      }
      case "invalid":
        return Promise.resolve({ status: "critical", checkedAt: now(), latencyMs: 0, output: c.reason });
    }
  }

  async #cached(target: Target): Promise<HealthResult | null> {
    let raw: string | null;
    try {
      raw = await this.#o.cache.get(`health:${target.name}`);
      this.#cacheOk();
    } catch (err) {
      this.#cacheFailed(err);
      return null;
    }
    if (raw === null) return null;
    try {
      const parsed = JSON.parse(raw) as { target?: unknown };
      return parsed.target === fingerprint(target) ? asHealthResult(parsed) : null;
    } catch {
      return null; // not ours (or damaged): probe
    }
  }

  async #store(target: Target, result: HealthResult): Promise<void> {
    try {
      await this.#o.cache.set(
        `health:${target.name}`,
        JSON.stringify({ ...result, target: fingerprint(target) }),
        this.#o.cacheTtlMs,
      );
      this.#cacheOk();
    } catch (err) {
      this.#cacheFailed(err);
    }
  }

  /**
   * Writes the verdict to metadata.health only when the status differs from the published one:
   * a probe that confirms the status moves no revision and wakes nobody, so health can be
   * long-polled without an event per probe.
   */
  async #publish(name: string, result: HealthResult): Promise<void> {
    const current = this.#o.core.get(name);
    if (!current) return;
    if (asHealthResult(current.metadata[HEALTH_KEY])?.status === result.status) return;
    try {
      const r = await this.#o.core.patchMetadata(name, { [HEALTH_KEY]: { ...result } });
      if (r.changed) this.#published++;
    } catch (err) {
      // Deregistered meanwhile, or the store refuses writes: the verdict still answers the caller.
      this.#o.log.debug({ err, name }, "health not published");
    }
  }

  #cacheOk(): void {
    if (!this.#cacheFailing) return;
    this.#cacheFailing = false;
    this.#o.log.info({ cache: this.#o.cache.name }, "health cache reachable again");
  }

  #cacheFailed(err: unknown): void {
    this.#cacheErrors++;
    if (this.#cacheFailing) return;
    this.#cacheFailing = true;
    this.#o.log.warn({ err, cache: this.#o.cache.name }, "health cache unreachable; probing live");
  }
}
