// discover(type, {healthy, tags}) against the real server, with the health verdicts the server publishes.

import { afterAll, beforeAll, expect, it } from "vitest";
import { SwitchboardClient } from "#client";
import { startTestServer, type TestServer } from "../../../test/helpers/server.js";
import { type HttpTarget, startHttpTarget } from "../../../test/helpers/targets.js";

let srv: TestServer;
let up: HttpTarget;
let down: HttpTarget;
let app: SwitchboardClient;

beforeAll(async () => {
  srv = await startTestServer({ config: { dataDir: ":memory:", healthInterval: 0 } });
  up = await startHttpTarget();
  down = await startHttpTarget();
  down.status = 503;
  app = new SwitchboardClient({ url: srv.url });
});

afterAll(async () => {
  await app.close();
  await srv.dispose();
  await up.close();
  await down.close();
});

it("filters by the published health and by tags", async () => {
  const common = { type: "web", host: "127.0.0.1", ttl: "30s" } as const;
  const a = await app.registerService({
    ...common,
    id: "a",
    port: up.port,
    attributes: { health_check_api: up.url, tags: ["eu", "v2"] },
  });
  const b = await app.registerService({
    ...common,
    id: "b",
    port: down.port,
    attributes: { health_check_api: down.url },
  });
  const c = await app.registerService({ ...common, id: "c", port: up.port, attributes: { tags: ["eu"] } });
  // Nothing checked yet: every service is listed, none is healthy.
  expect((await app.discover("web")).map((s) => s.id)).toEqual(["a", "b", "c"]);
  expect(await app.discover("web", { healthy: true })).toEqual([]);
  for (const id of ["a", "b"]) {
    expect((await fetch(`${srv.url}/services/web/${id}/check`, { method: "POST" })).status).toBe(200);
  }
  const healthy = await app.discover("web", { healthy: true });
  expect(healthy.map((s) => s.id)).toEqual(["a"]);
  expect(healthy[0]!.health).toMatchObject({ status: "passing", output: "HTTP 200: ok" });
  const all = await app.discover("web");
  expect(all.find((s) => s.id === "b")!.health!.status).toBe("critical");
  expect(all.find((s) => s.id === "c")!.health).toBeNull();
  expect((await app.discover("web", { tags: ["eu"] })).map((s) => s.id)).toEqual(["a", "c"]);
  expect((await app.discover("web", { tags: ["eu", "v2"], healthy: true })).map((s) => s.id)).toEqual(["a"]);
  // The client's TTL refreshes do not wipe the verdict (they carry no metadata).
  expect((await app.get("services/web/a")).metadata).toMatchObject({ health: { status: "passing" } });
  await Promise.all([a.close(), b.close(), c.close()]);
});
