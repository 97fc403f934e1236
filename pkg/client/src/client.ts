// SwitchboardClient: everything SwitchboardConsumer does, plus writes, provisions (TTL refresh, change requests) and services.

import { type CallSignal, SwitchboardConsumer } from "./consumer-client.js";
import { checkName } from "./errors.js";
import { ProviderHub } from "./provider-hub.js";
import { type Provision, ProvisionImpl } from "./provision.js";
import { durationMs } from "./runtime.js";
import { type StandardSchemaV1, validate } from "./schema.js";
import { type ServiceOptions, type ServiceRegistration, serviceName, serviceValue } from "./services.js";
import type {
  ClientOptions,
  Conditions,
  Duration,
  Json,
  JsonObject,
  RegisterWrite,
  WriteAnswer,
  WriteResult,
} from "./types.js";
import { Writer } from "./writer.js";

export type { CallSignal, ConsumeOptions } from "./consumer-client.js";

export interface ProvideOptions<T extends Json = Json> extends CallSignal {
  readonly metadata?: JsonObject | undefined;
  /** Kept alive by refreshes at half the TTL, batched with the client's other refreshes. */
  readonly ttl?: Duration | undefined;
  /** A Standard Schema (zod, valibot, arktype …) every value given to provide() and set() must match. */
  readonly schema?: StandardSchemaV1<unknown, T> | undefined;
}

export class SwitchboardClient extends SwitchboardConsumer {
  private readonly providers: ProviderHub;
  private readonly writer: Writer;

  constructor(options: ClientOptions) {
    super(options);
    this.writer = new Writer(this.common);
    this.providers = new ProviderHub(
      { ...this.common, waitMs: durationMs(options.providerWait ?? "30s") },
      this.writer,
      this.connection,
    );
  }

  /** Writes one register (PUT /provider). `ttl: 0` removes the TTL; omitted keeps the current deadline. */
  async set(
    name: string,
    value: Json,
    options: CallSignal & Conditions & { metadata?: JsonObject | undefined; ttl?: Duration | undefined } = {},
  ): Promise<WriteResult> {
    const w: { -readonly [K in keyof RegisterWrite]: RegisterWrite[K] } = { name, value };
    if (options.metadata !== undefined) w.metadata = options.metadata;
    if (options.ttl !== undefined) w.ttl = options.ttl;
    if (options.ifVersion !== undefined) w.ifVersion = options.ifVersion;
    if (options.ifModRevision !== undefined) w.ifModRevision = options.ifModRevision;
    const answer = await this.setMany([w], options);
    return answer.registers[0]!;
  }

  /** Writes several registers at one revision range, all or nothing. */
  setMany(writes: readonly RegisterWrite[], options: CallSignal = {}): Promise<WriteAnswer> {
    for (const w of writes) checkName(w.name);
    return this.call<WriteAnswer>("PUT", "/provider", options.signal, { body: { registers: writes } });
  }

  /**
   * Deletes registers (DELETE /provider); resolves with the names that existed. With ifVersion /
   * ifModRevision every named register must be at it, or nothing is deleted (VersionConflictError).
   */
  async delete(names: string | readonly string[], options: CallSignal & Conditions = {}): Promise<string[]> {
    const list = typeof names === "string" ? [names] : names;
    for (const n of list) checkName(n);
    const answer = await this.call<{ deleted: string[] }>("DELETE", "/provider", options.signal, {
      query: [
        ...list.map((n) => ["name", n] as const),
        ["ifVersion", options.ifVersion] as const,
        ["ifModRevision", options.ifModRevision] as const,
      ],
    });
    return answer.deleted;
  }

  // ── provisions ────────────────────────────────────────────────────────────────────────────────

  /** Publishes a register and keeps it: TTL refresh, change requests, set(), close(). */
  provide<T extends Json = Json>(name: string, value: NoInfer<T>, options: ProvideOptions<T> = {}): Provision<T> {
    checkName(name);
    const { schema } = options;
    if (schema !== undefined) validate(schema, name, value);
    const ttlMs = options.ttl === undefined ? undefined : durationMs(options.ttl);
    const p = new ProvisionImpl(name, value, options.metadata, options.ttl, ttlMs, this.providers, options.signal);
    if (schema !== undefined) p.check = (v) => validate(schema, name, v);
    if (this.closed || options.signal?.aborted) void p.close({ keep: true });
    else this.providers.add(p);
    return p as unknown as Provision<T>;
  }

  /** Registers services/<type>/<id> with value {host, port, …}, refreshed until closed. */
  async registerService(options: ServiceOptions): Promise<ServiceRegistration> {
    const name = serviceName(options.type, options.id);
    const provide: { -readonly [K in keyof ProvideOptions]: ProvideOptions[K] } = { ttl: options.ttl };
    if (options.metadata !== undefined) provide.metadata = options.metadata;
    if (options.signal !== undefined) provide.signal = options.signal;
    const provision = this.provide(name, serviceValue(options), provide);
    await provision.ready;
    return { name, provision, close: (o) => provision.close(o) };
  }

  /** Also closes every provision (without deregistering: TTLs run out) and the writer. */
  protected override closeParts(): Promise<unknown>[] {
    return [this.providers.close(), this.writer.close()];
  }
}
