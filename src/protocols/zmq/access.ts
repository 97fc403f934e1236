// ACL of the CGSE dialect: registrations need write under services/, lookups read on all of it, terminate admin.

import type { Auth, Principal } from "../../services/auth/index.js";
import { checkServiceAccess } from "../network.js";

const WRITES = new Set(["register", "deregister", "renew"]);
const READS = new Set(["get", "list", "discover"]);

/** Refuses an action its caller may not take (see checkServiceAccess); terminate needs admin. */
export function checkAction(auth: Auth, principal: Principal, action: unknown): void {
  if (!auth.enabled) return;
  if (action === "terminate") auth.authorize(principal, "admin");
  else if (WRITES.has(action as string)) checkServiceAccess(auth, principal, "write");
  else if (READS.has(action as string)) checkServiceAccess(auth, principal, "read");
}
