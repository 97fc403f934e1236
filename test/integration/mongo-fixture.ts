// Shared fixture of the mongo integration tests: a test server per test, stores opened on it, register builders.

import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, vi } from "vitest";
import { registryMirror } from "../../src/services/registry/index.js";
import { createMongoPersistence, type MongoPersistence } from "../../src/storage/mongo/index.js";
import { type MongoTestServer, startMongoServer } from "../helpers/mongo-server.js";

/** The write bound the stores under test use: short, so outage tests are fast. */
export const BOUND_MS = 500;

export { reg, set } from "../helpers/registers.js";

/** Polls `cond` every 20 ms until it holds; fails after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}

/** The rejection reason of `p`; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

export interface MongoFixture {
  readonly server: MongoTestServer;
  /** A store on the test server (a fresh database unless named), closed after the test. */
  open(database?: string, monitorCommands?: boolean): MongoPersistence;
  /** Tracks a store created elsewhere so that it is closed after the test. */
  track(store: MongoPersistence): MongoPersistence;
}

/** Registers beforeEach/afterEach hooks: a new server per test, every store closed and the server stopped after. */
export function useMongoFixture(): MongoFixture {
  let server: MongoTestServer | undefined;
  const opened: MongoPersistence[] = [];
  let dbCounter = 0;

  beforeEach(async () => {
    server = await startMongoServer();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const p of opened.splice(0)) await p.close();
    await server?.stop();
  });

  const fixture: MongoFixture = {
    get server() {
      if (!server) throw new Error("the mongo test server runs only inside a test");
      return server;
    },
    open(database = `sb_it_${process.pid}_${++dbCounter}`, monitorCommands = false) {
      return fixture.track(
        createMongoPersistence({
          url: fixture.server.url,
          database,
          writeTimeoutMs: BOUND_MS,
          clientOptions: { monitorCommands },
          mirrors: [registryMirror],
        }),
      );
    },
    track(store) {
      opened.push(store);
      return store;
    },
  };
  return fixture;
}
