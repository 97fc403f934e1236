// Vitest global setup: builds the workspace packages and src → dist once, so child processes run compiled code (not tsx).

import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
}
