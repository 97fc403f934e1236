// Where upload task statuses live: Redis with a TTL when configured, else memory (timed out by the injected clock).

import type { Redis } from "ioredis";
import type { Clock, TimerHandle } from "../../core/index.js";

export type UploadState = "queued" | "processing" | "done" | "failed";

/** What GET /registry/upload/status/<task_id> answers. */
export interface UploadStatus {
  readonly task_id: string;
  readonly status: UploadState;
  readonly registry_id?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export interface UploadStatusStore {
  readonly name: string;
  get(taskId: string): Promise<UploadStatus | null>;
  put(status: UploadStatus): Promise<void>;
  /**
   * Marks every task left queued or processing by an earlier run as failed and answers them as
   * they were: an upload never stays "processing" across a restart.
   */
  failInterrupted(reason: string): Promise<UploadStatus[]>;
  close(): Promise<void>;
}

const failed = (s: UploadStatus, message: string): UploadStatus => ({
  task_id: s.task_id,
  status: "failed",
  ...(s.registry_id === undefined ? {} : { registry_id: s.registry_id }),
  error: { code: "UPLOAD_INTERRUPTED", message },
});

/** In memory: statuses vanish after the TTL, and with the process. */
export function memoryStatusStore(clock: Clock, ttlMs: number): UploadStatusStore {
  const entries = new Map<string, { status: UploadStatus; timer: TimerHandle }>();
  return {
    name: "memory",
    async get(id) {
      return entries.get(id)?.status ?? null;
    },
    async put(status) {
      const old = entries.get(status.task_id);
      if (old) clock.clearTimeout(old.timer);
      const timer = clock.setTimeout(() => entries.delete(status.task_id), ttlMs);
      entries.set(status.task_id, { status, timer });
    },
    async failInterrupted() {
      return [];
    },
    async close() {
      for (const { timer } of entries.values()) clock.clearTimeout(timer);
      entries.clear();
    },
  };
}

interface Stored {
  readonly owner: string;
  readonly status: UploadStatus;
}

/**
 * In Redis as `<prefix><task_id>` JSON with a TTL (PX), so statuses outlive a restart. Each entry
 * names its owner (a stable id of the server's data dir): after a restart a server fails only
 * its own unfinished tasks, never those of another server sharing the Redis.
 */
export function redisStatusStore(
  redis: Redis,
  ttlMs: number,
  owner: string,
  prefix = "switchboard:upload:",
): UploadStatusStore {
  const write = (status: UploadStatus) =>
    redis.set(prefix + status.task_id, JSON.stringify({ owner, status } satisfies Stored), "PX", ttlMs);
  return {
    name: "redis",
    async get(id) {
      const raw = await redis.get(prefix + id);
      return raw === null ? null : (JSON.parse(raw) as Stored).status;
    },
    async put(status) {
      await write(status);
    },
    async failInterrupted(reason) {
      let cursor = "0";
      const out: UploadStatus[] = [];
      // SCAN is bounded per call; the loop ends when Redis hands the cursor back as "0".
      for (let round = 0; round < 1_000_000; round++) {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        for (const key of keys) {
          const raw = await redis.get(key);
          if (raw === null) continue;
          const stored = JSON.parse(raw) as Stored;
          const s = stored.status;
          if (stored.owner !== owner || (s.status !== "queued" && s.status !== "processing")) continue;
          await write(failed(s, reason));
          out.push(s);
        }
        cursor = next;
        if (cursor === "0") break;
      }
      return out;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
