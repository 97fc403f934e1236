// First start with auth on: an admin policy and an admin token, written to a 0600 file whose path is logged.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { SwitchboardError } from "../../core/index.js";
import type { Auth } from "./index.js";

export const ADMIN_POLICY = "admin";

/**
 * With auth on, the server must never start with no way in. When no token exists yet: the
 * `admin` policy is created, and the admin token is either imported from `--admin-token-file`
 * (when that file exists) or made and written there (default `<data-dir>/admin.token`; a
 * `:memory:` data dir uses a file in the system temp dir), mode 0600. Returns the file's path,
 * or null when tokens already existed.
 */
export async function bootstrapAdmin(auth: Auth, options: { file?: string; dataDir: string }): Promise<string | null> {
  if (!auth.enabled || auth.hasTokens()) return null;
  const file =
    options.file ??
    (options.dataDir === ":memory:"
      ? join(tmpdir(), `switchboard-admin-${process.pid}.token`)
      : join(options.dataDir, "admin.token"));
  if (!isAbsolute(file) && file.includes("\0"))
    throw new SwitchboardError("INVALID_CONFIG", "bad admin token file path");
  await auth.putPolicy({
    name: ADMIN_POLICY,
    description: "everything, token and policy management included",
    rules: [{ prefix: "", admin: true }],
  });
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    await auth.createToken({ policies: [ADMIN_POLICY], description: "bootstrap admin (imported)", secret });
  } else {
    const { token } = await auth.createToken({ policies: [ADMIN_POLICY], description: "bootstrap admin" });
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  }
  return file;
}
