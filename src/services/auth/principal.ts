// Who is calling: anonymous (auth off, or no credentials) or the holder of a token, with the grants of its policies.

import { Grants } from "./policy.js";

export interface Principal {
  /** "anonymous" when auth is off: it may do everything, as before auth existed. */
  readonly kind: "anonymous" | "token" | "network";
  /** The token id (kind token) or the listener's network policy name (kind network). */
  readonly id: string;
  readonly grants: Grants;
}

/** The caller when auth is off: every action allowed. */
export const OPEN_PRINCIPAL: Principal = {
  kind: "anonymous",
  id: "open",
  grants: new Grants([{ prefix: "", admin: true }]),
};

/** The caller with no credentials when auth is on: nothing allowed. */
export const NOBODY: Principal = { kind: "anonymous", id: "anonymous", grants: new Grants([]) };
