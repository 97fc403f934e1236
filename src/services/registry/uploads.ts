// ZIP uploads processed in the background: a bounded p-queue validates the spec, reads the zip, stores assets, writes the record.

import { randomUUID } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import PQueue from "p-queue";
import type { Logger } from "pino";
import { isSwitchboardError, type ObjectStore, SwitchboardError } from "../../core/index.js";
import type { RegistryRecords } from "./records.js";
import { parseSpec, type RegistrySpec } from "./schema.js";
import type { UploadStatus, UploadStatusStore } from "./upload-status.js";
import { readZip, type ZipLimits } from "./zip-reader.js";

export interface UploadOptions extends ZipLimits {
  /** Uploads waiting (not counting the one being processed) before UPLOAD_QUEUE_FULL. */
  readonly maxQueued: number;
  /** Largest zip file accepted, bytes (the multipart parser stops reading past it). */
  readonly maxZipBytes: number;
  /** Where multipart files are streamed before processing. */
  readonly tempDir: string;
}

/** One accepted upload: the spec text and the zip already streamed to a temp file (removed when done). */
export interface UploadInput {
  readonly spec: string;
  readonly zipPath: string;
}

/** Folders of an archive whose URL fills a record field. */
const FOLDERS = { "docs/": "registry_documentation_s3_url", "sdk/": "registry_client_sdk_s3_url" } as const;

/** Parses the spec text of an upload (a JSON RegistryCoreData spec). */
export function parseSpecText(text: string): RegistrySpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SwitchboardError("INVALID_BODY", "the spec field is not valid JSON", {
      details: [{ path: "spec", message: "not valid JSON" }],
    });
  }
  return parseSpec(raw);
}

export class UploadService {
  readonly #records: RegistryRecords;
  readonly #objects: ObjectStore;
  readonly #status: UploadStatusStore;
  readonly #options: UploadOptions;
  readonly #log: Logger;
  readonly #queue = new PQueue({ concurrency: 1 });
  /** Accepted tasks not yet started: on close they are failed and their temp files removed. */
  readonly #waiting = new Map<string, UploadInput>();
  #closed = false;

  constructor(
    records: RegistryRecords,
    objects: ObjectStore,
    status: UploadStatusStore,
    options: UploadOptions,
    log: Logger,
  ) {
    this.#records = records;
    this.#objects = objects;
    this.#status = status;
    this.#options = options;
    this.#log = log;
  }

  get options(): UploadOptions {
    return this.#options;
  }

  /**
   * Call once before accepting uploads: marks the tasks an earlier run left unfinished as failed,
   * removes the assets they had begun to store, and empties the temp dir (its files belonged to
   * that run; the data dir lock keeps two servers from sharing it).
   */
  async recover(): Promise<number> {
    const interrupted = await this.#status.failInterrupted("the server restarted before the upload was processed");
    for (const s of interrupted) {
      if (s.registry_id !== undefined)
        await this.#objects.delete(`${s.registry_id}/${s.task_id}/`).catch(() => undefined);
    }
    for (const f of await readdir(this.#options.tempDir).catch(() => [])) {
      await rm(join(this.#options.tempDir, f), { force: true });
    }
    if (interrupted.length > 0)
      this.#log.warn({ tasks: interrupted.length }, "uploads interrupted by a restart marked failed");
    return interrupted.length;
  }

  /**
   * Queues an upload and answers its task id at once. The spec is checked here too, so a bad
   * spec is refused before anything is queued; the temp file is the service's from now on.
   */
  async submit(input: UploadInput): Promise<{ task_id: string }> {
    try {
      if (this.#closed) throw new SwitchboardError("SHUTTING_DOWN", "the server is shutting down");
      parseSpecText(input.spec);
      if (this.#queue.size >= this.#options.maxQueued) {
        throw new SwitchboardError("UPLOAD_QUEUE_FULL", "too many uploads are waiting", { retryAfter: 5 });
      }
    } catch (err) {
      await rm(input.zipPath, { force: true });
      throw err;
    }
    const taskId = randomUUID();
    await this.#status.put({ task_id: taskId, status: "queued" });
    this.#waiting.set(taskId, input);
    void this.#queue.add(async () => {
      if (this.#waiting.delete(taskId)) await this.#process(taskId, input);
    });
    return { task_id: taskId };
  }

  /** The task's status; UPLOAD_NOT_FOUND when unknown or expired. */
  async status(taskId: string): Promise<UploadStatus> {
    const s = /^[0-9a-f-]{36}$/.test(taskId) ? await this.#status.get(taskId) : null;
    if (!s)
      throw new SwitchboardError("UPLOAD_NOT_FOUND", `no upload task ${taskId}`, { details: { task_id: taskId } });
    return s;
  }

  /** Resolves when every queued upload has been processed. */
  onIdle(): Promise<void> {
    return this.#queue.onIdle();
  }

  /**
   * Takes no more uploads, fails the ones still waiting (their status says why), lets the one
   * being processed finish, and closes the status store.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const [taskId, input] of waiting) {
      await rm(input.zipPath, { force: true });
      await this.#status
        .put({
          task_id: taskId,
          status: "failed",
          error: { code: "UPLOAD_INTERRUPTED", message: "the server stopped before the upload was processed" },
        })
        .catch(() => undefined);
    }
    await this.#queue.onIdle();
    await this.#status.close();
  }

  async #process(taskId: string, input: UploadInput): Promise<void> {
    const stored: string[] = [];
    let registryId: string | undefined;
    try {
      const spec = parseSpecText(input.spec);
      registryId = spec.registry_id;
      // The registry_id is saved with "processing" so a restart can find the assets to remove.
      await this.#status.put({ task_id: taskId, status: "processing", registry_id: registryId });
      const folder = `${spec.registry_id}/${taskId}/`;
      const seen = new Set<string>();
      await readZip(input.zipPath, this.#options, async (path, data) => {
        const key = folder + path;
        stored.push(key);
        await this.#objects.put(key, data);
        for (const f of Object.keys(FOLDERS)) if (path.startsWith(f)) seen.add(f);
      });
      const assets: Record<string, string> = { registry_asset_id: taskId };
      for (const [f, fieldName] of Object.entries(FOLDERS)) {
        if (seen.has(f)) assets[fieldName] = this.#objects.url(folder + f);
      }
      const filled = { ...spec, ...assets };
      const previous = this.#records.find(spec.registry_id);
      if (previous) await this.#records.update(filled);
      else await this.#records.create(filled);
      // The record now points at the new assets: the ones an earlier upload stored go.
      const oldAsset = previous?.registry_asset_id;
      if (typeof oldAsset === "string" && /^[0-9a-f-]{36}$/.test(oldAsset) && oldAsset !== taskId) {
        await this.#objects.delete(`${spec.registry_id}/${oldAsset}/`).catch(() => undefined);
      }
      await this.#status.put({ task_id: taskId, status: "done", registry_id: spec.registry_id });
    } catch (err) {
      // A failed task leaves nothing behind: no record was written, and its assets go.
      await this.#objects.delete(`${registryId ?? "_"}/${taskId}/`).catch(() => undefined);
      for (const key of stored) await this.#objects.delete(key).catch(() => undefined);
      const e = isSwitchboardError(err) ? err : new SwitchboardError("INTERNAL", "the upload could not be processed");
      if (!isSwitchboardError(err)) this.#log.error({ err, taskId }, "upload failed unexpectedly");
      await this.#status
        .put({
          task_id: taskId,
          status: "failed",
          ...(registryId === undefined ? {} : { registry_id: registryId }),
          error: e.toJSON(),
        })
        .catch((statusErr: unknown) => this.#log.error({ err: statusErr, taskId }, "upload status not saved"));
    } finally {
      await rm(input.zipPath, { force: true });
    }
  }
}
