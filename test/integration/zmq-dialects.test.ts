// The CGSE registry dialect beside the others: REST services and long-polls, ports in /status, port errors, terminate.

import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { CgseClient, cgseEndpoints } from "../helpers/cgse-client.js";
import { useCgseServer } from "../helpers/cgse-fixture.js";
import { startTestServer } from "../helpers/server.js";

const f = useCgseServer();
const { clock, rest, register } = f;

describe("across dialects", () => {
  it("sees services registered over REST, and publishes their register and deregister", async () => {
    await rest("PUT", "/provider", { name: "services/web/w1", value: { host: "10.1.1.1", port: 80 }, ttl: "20s" });
    const e = await f.client.waitForEvent((x) => x.topic === "register" && x.body.data.service_id === "w1");
    expect(e.body.data.service_info).toEqual({
      name: "w1",
      host: "10.1.1.1",
      port: 80,
      id: "w1",
      type: "web",
      metadata: {},
      tags: [],
    });
    const d = await f.client.request({ action: "discover", service_type: "web" });
    expect(d.service).toMatchObject({ id: "w1", host: "10.1.1.1", port: 80, ttl: 20, health: "passing" });
    expect(await f.client.heartbeat("w1")).toMatchObject({ success: true });
    await rest("DELETE", "/provider?name=services/web/w1");
    const gone = await f.client.waitForEvent((x) => x.topic === "deregister" && x.body.data.service_id === "w1");
    expect(gone.body.data.service_info).toEqual({ id: "w1", type: "web" });
  });

  it("wakes REST long-polls on services/ with its registrations, deregistrations and expiries", async () => {
    const poll = async (index: number) =>
      (await rest("GET", `/consumer?prefix=services/POLL/&index=${index}&wait=10s`)).body as {
        index: number;
        registers: { name: string; found: boolean; value?: unknown }[];
      };
    const start = (await rest("GET", "/consumer?prefix=services/POLL/")).body.index as number;
    const woken = poll(start);
    const { service_id: id } = await register({ name: "poll", host: "h", port: 3, type: "POLL" }, 2);
    const first = await woken;
    expect(first.registers).toEqual([
      expect.objectContaining({
        name: `services/POLL/${id}`,
        found: true,
        value: expect.objectContaining({ port: 3 }),
      }),
    ]);
    // A renewal changes nothing: a poll from here is woken by the deregistration, not by the beat.
    const second = poll(first.index);
    expect(await f.client.heartbeat(id)).toMatchObject({ success: true });
    await f.client.request({ action: "deregister", service_id: id });
    expect((await second).registers).toEqual([{ name: `services/POLL/${id}`, found: false }]);

    const again = await register({ name: "poll", id, host: "h", port: 3, type: "POLL" }, 2);
    expect(again.success).toBe(true);
    const third = poll((await rest("GET", "/consumer?prefix=services/POLL/")).body.index);
    for (
      let i = 0;
      i < 10 && !f.client.events.some((e) => e.topic === "expire" && e.body.data.service_id === id);
      i++
    ) {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await third).registers).toEqual([{ name: `services/POLL/${id}`, found: false }]);
  });
});

describe("ports", () => {
  it("lists its three sockets in /status; off binds nothing; a port in use is a start-up error naming the flag", async () => {
    const status = await rest("GET", "/status");
    expect(status.body.listeners.map((l: any) => l.protocol)).toEqual(
      expect.arrayContaining(["zmq-req", "zmq-pub", "zmq-hb"]),
    );
    const off = await startTestServer({
      dataDir: ":memory:",
      config: { zmqReqPort: "off", zmqPubPort: "off", zmqHbPort: "off" },
    });
    try {
      expect(off.server.listeners.filter((l) => l.protocol.startsWith("zmq"))).toEqual([]);
      expect(off.server.listeners.map((l) => l.protocol)).toContain("http");
    } finally {
      await off.dispose();
    }
    const taken = f.srv.server.listeners.find((l) => l.protocol === "zmq-hb")!.port;
    await expect(startTestServer({ dataDir: ":memory:", config: { zmqHbPort: taken } })).rejects.toMatchObject({
      code: "LISTEN_FAILED",
      message: `cannot listen on 127.0.0.1:${taken} (--zmq-hb-port): the address is already in use`,
    });
  });
});

describe("terminate", () => {
  it("stops the whole server gracefully when --zmq-allow-terminate is on", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/child-server.ts", ":memory:"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, SWITCHBOARD_ZMQ_ALLOW_TERMINATE: "true" },
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const c = await (async () => {
      const line = await new Promise<string>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
        createInterface({ input: child.stdout! }).once("line", resolve);
      });
      const url = (JSON.parse(line) as { url: string }).url;
      const status = (await (await fetch(`${url}/status`)).json()) as { listeners: any[] };
      return new CgseClient(cgseEndpoints(status.listeners));
    })().catch((err: unknown) => {
      child.kill("SIGKILL");
      throw err;
    });
    try {
      expect(await c.request({ action: "terminate" })).toEqual({
        success: true,
        status: "terminating",
        timestamp: expect.any(Number),
      });
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await c.close();
    }
  });
});
