// Vitest global setup: builds the workspace packages and src → dist once, so child processes run compiled code (not tsx).
// Each test project runs the global setup; the environment marker makes the second one a no-op.

import { execFileSync } from "node:child_process";

export default function setup(): void {
  if (process.env.SWITCHBOARD_TEST_BUILT === "1") return;
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
  process.env.SWITCHBOARD_TEST_BUILT = "1";
}
