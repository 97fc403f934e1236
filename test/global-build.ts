// Vitest global setup: builds the workspace packages and src → dist once, so child processes run compiled code (not tsx).

import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    stdio: "inherit",
  });
}
