// Runs the shared persistence contract against the file store, in both durability modes.

import { createFilePersistence } from "../../src/storage/file/index.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { describePersistenceContract } from "./persistence.js";

for (const durability of ["strict", "relaxed"] as const) {
  describePersistenceContract(
    `file (${durability})`,
    async () => {
      const dir = await makeTempDir("switchboard-file-contract-");
      return { open: async () => createFilePersistence({ dir: dir.path, durability }), cleanup: dir.cleanup };
    },
    { survivesRestart: true },
  );
}
