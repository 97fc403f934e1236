// Authentication and access control: tokens bound to policies, both kept as registers under `_sys/acl/`.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Json, type JsonObject, type Switchboard, SwitchboardError } from "../../core/index.js";
import { type Action, Grants, type Policy, policySchema, type RegisterAction, type Rule } from "./policy.js";
import { NOBODY, OPEN_PRINCIPAL, type Principal } from "./principal.js";
import { RateLimiter } from "./rate-limit.js";

export type { Action, Policy, RegisterAction, Rule } from "./policy.js";
export { policySchema, SYSTEM_PREFIX } from "./policy.js";
export { NOBODY, OPEN_PRINCIPAL, type Principal } from "./principal.js";

const TOKENS = "_sys/acl/tokens/";
const POLICIES = "_sys/acl/policies/";
const TOKEN_RE = /^sbt\.([a-f0-9]{16})\.([A-Za-z0-9_-]{43})$/;

/** A token as it is stored and listed: never the secret, only its hash. */
export interface TokenRecord {
  readonly id: string;
  readonly description: string;
  readonly policies: readonly string[];
  readonly createdAt: string;
}

interface StoredToken extends TokenRecord {
  readonly hash: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface AuthOptions {
  /** False: every caller may do everything (loopback newcomer mode). */
  readonly enabled: boolean;
  /** Writes and change requests per second per token and per client address; 0 = unlimited. */
  readonly rateLimit?: number;
  /** Failed authentications allowed per client address and minute (a burst of that many, then refilled evenly). */
  readonly failuresPerMinute?: number;
}

/**
 * Tokens are random secrets `sbt.<id>.<secret>`, shown once at creation and stored as a SHA-256
 * hash (a 256-bit random secret needs no slow hash). Tokens and policies are registers, so they
 * are durable in every store and replicated like any state; an in-memory index follows their
 * changes through core.watch, so a revocation takes effect at once — held long-polls and open
 * streams of the token are ended through `onRevoke`.
 */
export class Auth {
  readonly enabled: boolean;
  readonly #core: Switchboard;
  readonly #tokens = new Map<string, StoredToken>();
  readonly #policies = new Map<string, Policy>();
  readonly #grants = new Map<string, Grants>();
  readonly #revokeListeners = new Map<string, Set<() => void>>();
  readonly #writes: RateLimiter;
  readonly #failures: RateLimiter;
  #following: AbortController | undefined;

  constructor(core: Switchboard, options: AuthOptions) {
    this.#core = core;
    this.enabled = options.enabled;
    const now = () => core.clock.now();
    this.#writes = new RateLimiter({ rate: options.rateLimit ?? 0, now });
    const failures = options.failuresPerMinute ?? 10;
    this.#failures = new RateLimiter({ rate: failures / 60, burst: failures, now });
    this.#reload();
  }

  /** Follows token and policy changes (revocations apply at once). Returns when the stream ends. */
  follow(): void {
    if (this.#following) return;
    const stop = new AbortController();
    this.#following = stop;
    const watch = this.#core.watch({
      prefixes: ["_sys/acl/"],
      after: this.#core.revision,
      signal: stop.signal,
      maxBuffer: 100_000,
    });
    void (async () => {
      for await (const item of watch) {
        if (item.type !== "event") {
          this.#reload();
          continue;
        }
        const e = item.event;
        if (e.name.startsWith(TOKENS)) {
          const id = e.name.slice(TOKENS.length);
          if (e.type === "set") this.#putToken(e.register.value);
          else if (e.type === "delete" || e.type === "expire") this.#dropToken(id);
        } else if (e.name.startsWith(POLICIES)) {
          if (e.type === "set") this.#putPolicy(e.register.value);
          else if (e.type === "delete" || e.type === "expire") this.#policies.delete(e.name.slice(POLICIES.length));
          this.#grants.clear();
        }
      }
    })();
  }

  stop(): void {
    this.#following?.abort();
  }

  /**
   * The caller of a request: from `Authorization: Bearer <token>` (or a dialect's token field).
   * Failed attempts are limited per client address: past the limit the address gets RATE_LIMITED
   * without its guesses being checked.
   */
  authenticate(secret: string | undefined, address = ""): Principal {
    if (!this.enabled) return OPEN_PRINCIPAL;
    if (secret === undefined || secret === "") return NOBODY;
    if (!this.#failures.has(`a:${address}`)) {
      throw new SwitchboardError("RATE_LIMITED", "too many failed authentications from this address", {
        retryAfter: 6,
      });
    }
    const m = TOKEN_RE.exec(secret);
    const stored = m ? this.#tokens.get(m[1]!) : undefined;
    const hash = Buffer.from(sha256(secret), "hex");
    // Compare even when the id is unknown, so timing does not tell which ids exist.
    const expected = Buffer.from(stored?.hash ?? "0".repeat(64), "hex");
    if (!stored || !timingSafeEqual(hash, expected)) {
      try {
        this.#failures.take([`a:${address}`]);
      } catch {
        // The attempt that empties the bucket is still answered as what it is.
      }
      throw new SwitchboardError("UNAUTHENTICATED", "the token is unknown, revoked or malformed");
    }
    return { kind: "token", id: stored.id, grants: this.#grantsOf(stored) };
  }

  /** The principal a listener's allowed network maps to (dialects whose wire has no credentials). */
  networkPrincipal(policyName: string): Principal {
    if (!this.enabled) return OPEN_PRINCIPAL;
    const policy = this.#policies.get(policyName);
    return { kind: "network", id: policyName, grants: new Grants(policy?.rules ?? []) };
  }

  /** Throws UNAUTHENTICATED (anonymous) or FORBIDDEN naming the action and the first refused name. */
  authorize(principal: Principal, action: Action, names: readonly string[] = [""]): void {
    for (const name of names) {
      if (principal.grants.allows(action, name)) continue;
      this.#refuse(principal, action, action === "admin" || action === "metrics" || action === "status" ? "" : name);
    }
  }

  /**
   * Refuses anonymous callers when auth is on (UNAUTHENTICATED). For routes that filter what they
   * answer by the caller's grants instead of refusing: a listing or prefix read still needs a token.
   */
  requireSignedIn(principal: Principal): void {
    if (this.enabled && principal.kind === "anonymous") this.#refuse(principal, "read", "");
  }

  /** Like authorize, for prefixes: the principal must hold the action on everything under each prefix. */
  authorizePrefixes(principal: Principal, action: RegisterAction, prefixes: readonly string[]): void {
    for (const p of prefixes) if (!principal.grants.covers(action, p)) this.#refuse(principal, action, `${p}*`);
  }

  /** Whether the principal may `action` the register `name` (for filtering prefix reads and events). */
  may(principal: Principal, action: RegisterAction, name: string): boolean {
    return principal.grants.allows(action, name);
  }

  /** Whether the principal may `action` some register under `prefix` (see Grants.touches). */
  mayUnder(principal: Principal, action: RegisterAction, prefix: string): boolean {
    return principal.grants.touches(action, prefix);
  }

  /** Refuses (FORBIDDEN, or UNAUTHENTICATED when anonymous) unless the principal may `action` some name under `prefix`. */
  authorizeUnder(principal: Principal, action: RegisterAction, prefix: string): void {
    if (!principal.grants.touches(action, prefix)) this.#refuse(principal, action, `${prefix}*`);
  }

  /** Charges `count` writes or change requests to the token and the client address (RATE_LIMITED when over). */
  chargeWrites(principal: Principal, address: string, count = 1): void {
    if (!this.#writes.enabled) return;
    const keys = [`a:${address}`];
    if (principal.kind === "token") keys.push(`t:${principal.id}`);
    this.#writes.take(keys, count);
  }

  /** Calls `listener` when the token behind `principal` is revoked; returns the unsubscribe. */
  onRevoke(principal: Principal, listener: () => void): () => void {
    if (principal.kind !== "token") return () => undefined;
    const set = this.#revokeListeners.get(principal.id) ?? new Set();
    set.add(listener);
    this.#revokeListeners.set(principal.id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#revokeListeners.delete(principal.id);
    };
  }

  // ----------------------------------------------------------------- management (admin)

  hasTokens(): boolean {
    return this.#tokens.size > 0;
  }

  listTokens(): TokenRecord[] {
    return [...this.#tokens.values()].map(({ hash: _, ...record }) => record);
  }

  listPolicies(): Policy[] {
    return [...this.#policies.values()];
  }

  /** Creates a token; the secret is in the answer and nowhere else. `secret` imports a known one (bootstrap file). */
  async createToken(input: { policies: readonly string[]; description?: string; secret?: string }): Promise<{
    token: string;
    record: TokenRecord;
  }> {
    for (const p of input.policies) {
      if (!this.#policies.has(p))
        throw new SwitchboardError("POLICY_NOT_FOUND", `no policy named ${p}`, { details: { policy: p } });
    }
    let token = input.secret;
    if (token !== undefined && !TOKEN_RE.test(token)) {
      throw new SwitchboardError("INVALID_BODY", "a token has the form sbt.<16 hex>.<43 base64url characters>");
    }
    token ??= `sbt.${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
    const id = TOKEN_RE.exec(token)![1]!;
    const stored: StoredToken = {
      id,
      description: input.description ?? "",
      policies: [...input.policies],
      createdAt: new Date(this.#core.clock.now()).toISOString(),
      hash: sha256(token),
    };
    await this.#core.set([{ name: `${TOKENS}${id}`, value: stored as unknown as JsonObject }]);
    this.#putToken(stored as unknown as Json);
    const { hash: _, ...record } = stored;
    return { token, record };
  }

  async revokeToken(id: string): Promise<boolean> {
    if (!/^[a-f0-9]{16}$/.test(id)) throw new SwitchboardError("TOKEN_NOT_FOUND", `no token with id ${id}`);
    const deleted = await this.#core.delete([`${TOKENS}${id}`]);
    this.#dropToken(id);
    return deleted.length > 0;
  }

  async putPolicy(input: unknown): Promise<Policy> {
    const parsed = policySchema.safeParse(input);
    if (!parsed.success) {
      throw new SwitchboardError("INVALID_BODY", "invalid policy", {
        details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      });
    }
    const policy = parsed.data;
    await this.#core.set([{ name: `${POLICIES}${policy.name}`, value: policy as unknown as JsonObject }]);
    this.#putPolicy(policy as unknown as Json);
    this.#grants.clear();
    return policy;
  }

  async deletePolicy(name: string): Promise<boolean> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new SwitchboardError("POLICY_NOT_FOUND", `no policy named ${name}`);
    const deleted = await this.#core.delete([`${POLICIES}${name}`]);
    this.#policies.delete(name);
    this.#grants.clear();
    return deleted.length > 0;
  }

  // ----------------------------------------------------------------- internals

  #refuse(principal: Principal, action: Action, name: string): never {
    if (principal.kind === "anonymous") {
      throw new SwitchboardError("UNAUTHENTICATED", "this server requires a token (Authorization: Bearer <token>)");
    }
    throw new SwitchboardError("FORBIDDEN", `${action} is not allowed${name ? ` on ${name}` : ""}`, {
      details: { action, ...(name ? { name } : {}) },
    });
  }

  #grantsOf(token: StoredToken): Grants {
    let g = this.#grants.get(token.id);
    if (!g) {
      const rules: Rule[] = token.policies.flatMap((p) => this.#policies.get(p)?.rules ?? []);
      g = new Grants(rules);
      this.#grants.set(token.id, g);
    }
    return g;
  }

  #reload(): void {
    this.#tokens.clear();
    this.#policies.clear();
    this.#grants.clear();
    for (const view of this.#core.read({ prefixes: ["_sys/acl/"] })) {
      if (!view.found) continue;
      if (view.name.startsWith(TOKENS)) this.#putToken(view.register.value);
      else if (view.name.startsWith(POLICIES)) this.#putPolicy(view.register.value);
    }
  }

  #putToken(value: Json): void {
    if (!isObject(value) || typeof value.id !== "string" || typeof value.hash !== "string") return;
    const policies = Array.isArray(value.policies)
      ? value.policies.filter((p): p is string => typeof p === "string")
      : [];
    this.#tokens.set(value.id, {
      id: value.id,
      hash: value.hash,
      policies,
      description: typeof value.description === "string" ? value.description : "",
      createdAt: typeof value.createdAt === "string" ? value.createdAt : "",
    });
    this.#grants.delete(value.id);
  }

  #putPolicy(value: Json): void {
    const parsed = policySchema.safeParse(value);
    if (parsed.success) this.#policies.set(parsed.data.name, parsed.data);
  }

  #dropToken(id: string): void {
    if (!this.#tokens.delete(id)) return;
    this.#grants.delete(id);
    const listeners = this.#revokeListeners.get(id);
    this.#revokeListeners.delete(id);
    for (const l of listeners ?? []) l();
  }
}
