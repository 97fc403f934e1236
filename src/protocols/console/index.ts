// The web console: serves the built single page of pkg/console at /ui/ on the shared HTTP port (`--ui off` removes it).

import { z } from "zod";
import { defineProtocol, switchOption } from "../protocol.js";
import { DEFAULT_CONSOLE_DIR, loadConsoleAssets } from "./assets.js";
import { mountConsole } from "./routes.js";

export const consoleProtocol = defineProtocol({
  name: "console",
  options: z.object({
    ui: switchOption(true, "serve the web console at /ui/ (and send a browser's GET / there)"),
    uiDir: z
      .string()
      .default("")
      .describe("folder of a built console to serve instead of the bundled one (pkg/console/dist)"),
  }),
  create({ http, log }, options) {
    if (options.ui) {
      const dir = options.uiDir || DEFAULT_CONSOLE_DIR;
      const assets = loadConsoleAssets(dir);
      if (assets) log.debug({ dir, files: assets.size }, "web console loaded");
      else log.warn({ dir }, "web console not built: /ui/ answers 503 CONSOLE_NOT_BUILT (run npm run build)");
      http.label("/ui", "/ui/*", "/");
      mountConsole(http.app, assets);
    }
    return {
      start: async () => [],
      stop: async () => undefined,
    };
  },
});
