// Listeners whose wire carries no credentials: allowed networks (CIDR lists) and the policy their connections act under.

import { BlockList, isIP } from "node:net";
import { z } from "zod";
import { SwitchboardError } from "../core/index.js";
import { type Auth, OPEN_PRINCIPAL, type Principal } from "../services/auth/index.js";
import { SERVICES_PREFIX } from "../services/discovery.js";

/** A CIDR list setting (`127.0.0.0/8,10.0.0.0/8`, `::1/128`; a bare address is one host). Empty: not set. */
export function allowOption(flag: string) {
  return z
    .union([z.string(), z.array(z.string())])
    .default("")
    .transform((v, ctx) => {
      const items = (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
      for (const item of items) {
        if (parseCidr(item) === null) {
          ctx.addIssue({
            code: "custom",
            message: `--${flag}: not an address or CIDR network: ${JSON.stringify(item)}`,
          });
          return z.NEVER;
        }
      }
      return items;
    })
    .describe(
      `networks allowed to connect, comma-separated CIDRs (e.g. 127.0.0.0/8,10.0.0.0/8); when set the listener binds --host and refuses other peers (default: loopback only when auth is on)`,
    );
}

/** The policy connections from allowed networks act under (required with auth on when the allow list is set). */
export function policyOption(flag: string) {
  return z
    .string()
    .regex(/^([A-Za-z0-9._-]{1,64})?$/, "a policy name")
    .default("")
    .transform((v) => (v === "" ? null : v))
    .describe(
      `policy whose rules apply to connections from the allowed networks (--${flag.replace("-policy", "-allow")}); unset: local clients may do everything`,
    );
}

function parseCidr(item: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", bits] = item.split("/");
  const v = isIP(address);
  if (v === 0) return null;
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: v === 4 ? "ipv4" : "ipv6" };
}

/**
 * The allowed networks of one listener and the principal its connections act under. With no
 * list every peer is admitted (the listener is then bound to loopback when auth is on).
 */
export class NetworkGate {
  readonly #list: BlockList | null;
  readonly #auth: Auth;
  readonly #policy: string | null;
  readonly #onRefuse: (address: string) => void;

  constructor(
    options: { allow: readonly string[]; policy: string | null; auth: Auth; flag: string },
    onRefuse: (address: string) => void,
  ) {
    this.#auth = options.auth;
    this.#policy = options.policy;
    this.#onRefuse = onRefuse;
    if (options.auth.enabled && options.allow.length > 0 && options.policy === null) {
      throw new SwitchboardError(
        "INVALID_CONFIG",
        `--${options.flag}-allow opens the listener to networks: name the policy they act under with --${options.flag}-policy`,
        { details: { setting: `${options.flag}-policy` } },
      );
    }
    if (options.allow.length === 0) {
      this.#list = null;
      return;
    }
    const list = new BlockList();
    for (const item of options.allow) {
      const c = parseCidr(item)!;
      list.addSubnet(c.address, c.prefix, c.family);
    }
    this.#list = list;
  }

  /** Whether the listener has an allow list (then it binds --host instead of loopback). */
  get restricted(): boolean {
    return this.#list !== null;
  }

  /** Whether a peer may connect; a refused one is reported (logged and counted by the caller's onRefuse). */
  admits(address: string | undefined): boolean {
    if (this.#list === null) return true;
    const a = (address ?? "").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
    const v = isIP(a);
    const ok = v !== 0 && this.#list.check(a, v === 4 ? "ipv4" : "ipv6");
    if (!ok) this.#onRefuse(a);
    return ok;
  }

  /** The principal of a connection: a token's (when the dialect carried one), else the listener's policy. */
  principal(token?: unknown, address = ""): Principal {
    if (!this.#auth.enabled) return OPEN_PRINCIPAL;
    if (typeof token === "string" && token !== "") return this.#auth.authenticate(token, address);
    if (this.#policy === null) return OPEN_PRINCIPAL;
    return this.#auth.networkPrincipal(this.#policy);
  }
}

/**
 * The service-registry dialects (RPyC, CGSE) name services by alias or id alone, so their checks
 * are per subtree: changing registrations needs write on some name under services/, reading them
 * read on all of services/ (a listing is never filtered into a partial one).
 */
export function checkServiceAccess(auth: Auth, principal: Principal, kind: "read" | "write"): void {
  if (!auth.enabled) return;
  if (kind === "write") auth.authorizeUnder(principal, "write", SERVICES_PREFIX);
  else auth.authorizePrefixes(principal, "read", [SERVICES_PREFIX]);
}
