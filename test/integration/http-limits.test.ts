// Limits at the edge, over real sockets: the connection cap (503 + Retry-After, ops routes still answered), the
// request-body timeout apart from long-poll holds, the per-client poll cap, parser errors as JSON, client aborts.

import { connect as netConnect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { openSocket, parseResponse, rawRequest, readResponse } from "../helpers/raw-http.js";
import { metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/until.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.dispose();
  srv = undefined;
});

const poll = (name: string, index: number, wait = "20s") =>
  `GET /consumer?name=${name}&index=${index}&wait=${wait} HTTP/1.1\r\nHost: t\r\n\r\n`;

async function indexOf(url: string): Promise<number> {
  const r = await fetch(`${url}/provider`, { method: "PUT", body: JSON.stringify({ name: "held", value: 0 }) });
  return ((await r.json()) as { index: number }).index;
}

/** A metric read over a new raw connection (which, past the cap, is one of the ops requests still answered). */
async function rawMetric(port: number, name: string, labels = ""): Promise<number> {
  const r = await rawRequest(port, "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  const line = r.body.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? Number.NaN : Number(line.split(" ")[1]);
}

describe("connection cap", () => {
  it("answers 503 + Retry-After beyond --max-connections while /healthz, /readyz and /metrics still answer", async () => {
    srv = await startTestServer({ config: { maxConnections: 6, maxWaiters: 100 } });
    const { port } = srv;
    const put = await rawRequest(
      port,
      'PUT /provider HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 26\r\n\r\n{"name":"held","value":0}\n',
    );
    const index = (JSON.parse(put.body) as { index: number }).index;
    // Only the metrics request itself is open: the PUT's connection is gone.
    await until(
      "the PUT connection to close",
      async () => (await rawMetric(port, "switchboard_http_connections")) === 1,
    );
    const held = [];
    for (let i = 0; i < 6; i++) {
      const s = await openSocket(port);
      s.socket.write(poll("held", index));
      held.push(s);
    }
    await until("6 held polls", async () => (await rawMetric(port, "switchboard_waiters", '{kind="consumer"}')) === 6);

    const refused = await rawRequest(port, poll("held", index));
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("5");
    expect(refused.headers.connection).toBe("close");
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "TOO_MANY_CONNECTIONS" } });
    const write = await rawRequest(port, "PUT /provider HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
    expect(write.status).toBe(503);

    const healthz = await rawRequest(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    expect(healthz.status).toBe(200);
    expect(JSON.parse(healthz.body)).toEqual({ status: "ok" });
    const readyz = await rawRequest(port, "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n");
    expect(readyz.status).toBe(200);
    expect(JSON.parse(readyz.body)).toMatchObject({ status: "ready" });
    expect(held.every((s) => s.received() === "")).toBe(true);

    // One held poll ends: the next connection is admitted again.
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await until(
      "a free slot",
      async () => (await rawRequest(port, "GET /registers HTTP/1.1\r\nHost: t\r\n\r\n")).status === 200,
    );
    for (const s of held) s.socket.destroy();
  });
});

describe("timeouts", () => {
  it("a trickled body gets 408 REQUEST_TIMEOUT after --request-body-timeout; a longer hold is not cut", async () => {
    srv = await startTestServer({ config: { requestBodyTimeout: "300ms", headersTimeout: "400ms" } });
    const { port, url } = srv;
    const index = await indexOf(url);
    const hold = fetch(`${url}/consumer?name=held&index=${index}&wait=1200ms`);

    const s = await openSocket(port);
    const started = performance.now();
    s.socket.write('PUT /provider HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"name"');
    const r = await readResponse(s);
    await s.closed;
    const took = performance.now() - started;
    expect(r.status).toBe(408);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: "REQUEST_TIMEOUT" } });
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);

    // Headers that never finish: 408 in the JSON shape once --headers-timeout has passed.
    const slow = await openSocket(port);
    slow.socket.write("GET /healthz HTTP/1.1\r\nHost: t\r\n");
    const timedOut = await readResponse(slow);
    expect(timedOut.status).toBe(408);
    expect(JSON.parse(timedOut.body)).toMatchObject({ error: { code: "REQUEST_TIMEOUT" } });

    const held = await hold;
    expect(held.status).toBe(200);
    expect(((await held.json()) as { index: number }).index).toBe(index);
    expect(
      await metricValue(url, "switchboard_http_requests_total", { method: "PUT", route: "/provider", status: "500" }),
    ).toBeNaN();
  });
});

describe("per-client poll cap", () => {
  it("answers 429 TOO_MANY_POLLS past --max-polls-per-client and frees the slot when a poll ends", async () => {
    srv = await startTestServer({ config: { maxPollsPerClient: 2 } });
    const { url } = srv;
    const index = await indexOf(url);
    const controllers = [new AbortController(), new AbortController()];
    const polls = controllers.map((ac) =>
      fetch(`${url}/consumer?name=held&index=${index}&wait=20s`, { signal: ac.signal }).catch(() => null),
    );
    await until(
      "2 held polls",
      async () => (await metricValue(url, "switchboard_waiters", { kind: "consumer" })) === 2,
    );
    const third = await fetch(`${url}/consumer?name=held&index=${index}&wait=20s`);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toBe("1");
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe("TOO_MANY_POLLS");
    // A read that does not hold counts while it runs, and is answered.
    expect((await fetch(`${url}/consumer?name=held`)).status).toBe(429);
    controllers[0]!.abort();
    await polls[0];
    await until("a freed slot", async () => (await fetch(`${url}/consumer?name=held`)).status === 200);
    controllers[1]!.abort();
    await polls[1];
  });
});

describe("parser errors and client aborts", () => {
  it("answers what Node's parser rejects in the JSON error shape", async () => {
    srv = await startTestServer();
    const garbage = await rawRequest(srv.port, "GARBAGE\r\n\r\n");
    expect(garbage.status).toBe(400);
    expect(garbage.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(garbage.body)).toMatchObject({ error: { code: "MALFORMED_REQUEST" } });

    const big = await rawRequest(srv.port, `GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(400_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: "HEADERS_TOO_LARGE" } });

    const star = await rawRequest(srv.port, "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
    expect(star.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(star.body)).toHaveProperty("error.code");
  });

  it("a client that disconnects mid-body is counted as 499, never 500", async () => {
    srv = await startTestServer();
    const s = await openSocket(srv.port);
    s.socket.write('PUT /provider HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"name"');
    await until(
      "the request to arrive",
      async () =>
        (await metricValue(srv!.url, "switchboard_http_requests_in_flight", { method: "PUT", route: "/provider" })) ===
        1,
    );
    s.socket.destroy();
    const labels = { method: "PUT", route: "/provider" };
    await until(
      "the abort to be counted",
      async () => (await metricValue(srv!.url, "switchboard_http_requests_total", { ...labels, status: "499" })) === 1,
    );
    expect(await metricValue(srv.url, "switchboard_http_requests_total", { ...labels, status: "500" })).toBeNaN();
  });
});

describe("per-address connection cap", () => {
  /** A raw connection from a chosen loopback source address; resolves once connected. */
  async function connectFrom(port: number, localAddress: string) {
    const socket = netConnect({ port, host: "127.0.0.1", localAddress });
    socket.on("error", () => undefined);
    let data = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return { socket, closed, received: () => data };
  }

  it("closes connections past --max-connections-per-ip at accept, counts them, and admits other addresses", async () => {
    srv = await startTestServer({ config: { maxConnectionsPerIp: 3 } });
    const { port, url } = srv;
    // No other connection is open yet: these three take every slot of 127.0.0.1.
    const idle = [];
    for (let i = 0; i < 3; i++) idle.push(await connectFrom(port, "127.0.0.1"));
    const over = await connectFrom(port, "127.0.0.1");
    over.socket.write("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    await over.closed;
    expect(over.received()).toBe("");

    // Another address is not affected by 127.0.0.1's count.
    const other = await connectFrom(port, "127.0.0.2");
    other.socket.write("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    await other.closed;
    expect(parseResponse(other.received()).status).toBe(200);

    // A connection that ends frees its slot: the next one from 127.0.0.1 is served.
    idle[0]!.socket.destroy();
    await idle[0]!.closed;
    await until("a freed slot", async () => {
      const s = await connectFrom(port, "127.0.0.1");
      s.socket.write("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      await s.closed;
      return s.received().startsWith("HTTP/1.1 200");
    });
    for (const s of idle) s.socket.destroy();
    await Promise.all(idle.map((s) => s.closed));
    const refused = await metricValue(url, "switchboard_http_connections_refused_total", { reason: "per_ip" });
    expect(refused).toBeGreaterThanOrEqual(1);
  });
});
