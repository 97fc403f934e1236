// One server (fake clock, ZeroMQ on free ports) and one subscribed CGSE client per test file, with REST and register helpers.

import { afterAll, beforeAll } from "vitest";
import { CgseClient, cgseEndpoints } from "./cgse-client.js";
import { FakeClock } from "./fake-clock.js";
import { startTestServer, type TestServer } from "./server.js";

export interface CgseFixture {
  readonly srv: TestServer;
  readonly client: CgseClient;
  readonly clock: FakeClock;
  /** The server clock's epoch seconds, as CGSE timestamps are. */
  nowSeconds(): number;
  rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** A `register` request with this service_info (and ttl, when given). */
  register(serviceInfo: Record<string, unknown>, ttl?: number): Promise<any>;
}

/** Starts the server and client before the file's tests and stops them after. */
export function useCgseServer(): CgseFixture {
  let srv: TestServer | undefined;
  let client: CgseClient | undefined;
  const clock = new FakeClock();
  const f: CgseFixture = {
    get srv() {
      if (!srv) throw new Error("the server is not started");
      return srv;
    },
    get client() {
      if (!client) throw new Error("the client is not connected");
      return client;
    },
    clock,
    nowSeconds: () => Math.floor(clock.now() / 1000),
    async rest(method, path, body) {
      const res = await fetch(`${f.srv.url}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    },
    register: (service_info, ttl) =>
      f.client.request({ action: "register", service_info, ...(ttl === undefined ? {} : { ttl }) }),
  };
  beforeAll(async () => {
    srv = await startTestServer({ clock, config: { sweepInterval: "1s" } });
    client = new CgseClient(cgseEndpoints(srv.server.listeners));
    // PUB drops what it sends before the subscription reaches it: probe until an event arrives.
    let i = 0;
    await client.subscribed(async () => {
      await f.rest("PUT", "/provider", { name: `services/probe/p${i++}`, value: { host: "h", port: 1 } });
    });
    await f.rest("DELETE", `/provider?${Array.from({ length: i }, (_, k) => `name=services/probe/p${k}`).join("&")}`);
  });
  afterAll(async () => {
    await client?.close();
    await srv?.dispose();
  });
  return f;
}
