// Runs the shared persistence contract against the mongo store: on the wire-compatible test server, and on a real MongoDB when SWITCHBOARD_TEST_MONGO_URL is set.

import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";
import { createMongoPersistence } from "../../src/storage/mongo/index.js";
import { startMongoServer } from "../helpers/mongo-server.js";
import { describePersistenceContract } from "./persistence.js";

/** A database name no other run or test uses, so runs against a shared server never collide. */
function uniqueDatabase(): string {
  return `switchboard_contract_${process.pid}_${randomBytes(4).toString("hex")}`;
}

describePersistenceContract(
  "mongo (wire-compatible test server)",
  async () => {
    const server = await startMongoServer();
    const database = uniqueDatabase();
    return {
      open: async () => createMongoPersistence({ url: server.url, database, writeTimeoutMs: 2_000 }),
      cleanup: () => server.stop(),
    };
  },
  { survivesRestart: true },
);

const realUrl = process.env.SWITCHBOARD_TEST_MONGO_URL;
if (realUrl) {
  describePersistenceContract(
    "mongo (real MongoDB from SWITCHBOARD_TEST_MONGO_URL)",
    async () => {
      const database = uniqueDatabase();
      return {
        open: async () => createMongoPersistence({ url: realUrl, database }),
        async cleanup() {
          const admin = new MongoClient(realUrl, { serverSelectionTimeoutMS: 5_000 });
          try {
            await admin.db(database).dropDatabase();
          } finally {
            await admin.close();
          }
        },
      };
    },
    { survivesRestart: true },
  );
}
