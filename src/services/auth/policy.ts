// ACL policies: allow-only rules over register-name prefixes, default deny, `_sys/` reserved for admins.

import { z } from "zod";

/** What a principal may do. Register actions are checked per name; the others are server-wide. */
export type RegisterAction = "read" | "write" | "request" | "provide";
export type ServerAction = "admin" | "metrics" | "status";
export type Action = RegisterAction | ServerAction;

export const REGISTER_ACTIONS: readonly RegisterAction[] = ["read", "write", "request", "provide"];

/** Names under this prefix hold the server's own records (tokens, policies): only admins touch them. */
export const SYSTEM_PREFIX = "_sys/";

export const ruleSchema = z
  .object({
    prefix: z
      .string()
      .max(256)
      .regex(/^[A-Za-z0-9._\-:/]*$/, "a prefix uses A-Z a-z 0-9 . _ - : /"),
    read: z.boolean().optional(),
    write: z.boolean().optional(),
    request: z.boolean().optional(),
    provide: z.boolean().optional(),
    /** Everything, everywhere (token and policy management included). Only meaningful with prefix "". */
    admin: z.boolean().optional(),
    metrics: z.boolean().optional(),
    status: z.boolean().optional(),
  })
  .strict();

export type Rule = z.infer<typeof ruleSchema>;

export const policySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a policy name is 1-64 chars of A-Z a-z 0-9 . _ -"),
    description: z.string().max(1000).optional(),
    rules: z.array(ruleSchema).max(1000),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;

/** The rules a principal holds, compiled for fast checks. */
export class Grants {
  readonly admin: boolean;
  readonly #byAction: ReadonlyMap<Action, readonly string[]>;

  constructor(rules: readonly Rule[]) {
    const byAction = new Map<Action, string[]>();
    let admin = false;
    for (const r of rules) {
      if (r.admin && r.prefix === "") admin = true;
      for (const a of [...REGISTER_ACTIONS, "metrics", "status"] as const) {
        if (r[a] || r.admin) {
          const list = byAction.get(a) ?? [];
          list.push(r.prefix);
          byAction.set(a, list);
        }
      }
    }
    this.admin = admin;
    this.#byAction = byAction;
  }

  /** Whether `action` is allowed on the register `name` (or server-wide for metrics/status/admin). */
  allows(action: Action, name = ""): boolean {
    if (this.admin) return true;
    if (action === "admin") return false;
    if (name.startsWith(SYSTEM_PREFIX)) return false;
    const prefixes = this.#byAction.get(action);
    return prefixes?.some((p) => name.startsWith(p)) ?? false;
  }

  /**
   * Whether `action` is allowed on every name that starts with `prefix`: some granted prefix is a
   * prefix of it, and it cannot reach `_sys/` (unless admin).
   */
  covers(action: RegisterAction, prefix: string): boolean {
    if (this.admin) return true;
    if (SYSTEM_PREFIX.startsWith(prefix) || prefix.startsWith(SYSTEM_PREFIX)) return false;
    const prefixes = this.#byAction.get(action);
    return prefixes?.some((p) => prefix.startsWith(p)) ?? false;
  }

  /**
   * Whether `action` is allowed on some name that starts with `prefix` (a granted prefix lies under
   * it or above it): the caller may hold part of a subtree, whose listings are then filtered.
   */
  touches(action: RegisterAction, prefix: string): boolean {
    if (this.admin) return true;
    if (prefix.startsWith(SYSTEM_PREFIX)) return false;
    const prefixes = this.#byAction.get(action);
    return prefixes?.some((p) => p.startsWith(prefix) || prefix.startsWith(p)) ?? false;
  }
}
