// PUT /provider is served at node level (before hono) unless the request is a CORS one: both paths must give
// the same answer, hold the same body cap, and count a client that leaves mid-body as gone, never as a fault.

import { afterEach, describe, expect, it } from "vitest";
import { openSocket, readResponse } from "../helpers/raw-http.js";
import { freePort, metricValue, startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/until.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.dispose();
  srv = undefined;
});

const ORIGIN = "http://console.test";

async function put(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}/provider`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, body: (await r.json()) as any };
}

describe("PUT /provider at node level", () => {
  it("answers exactly as the hono route does (a CORS request takes the hono route)", async () => {
    srv = await startTestServer({ config: { corsOrigin: ORIGIN } });
    const fast = await put(srv.url, { name: "same/a", value: { n: 1 }, ttl: "30s" });
    const viaHono = await put(srv.url, { name: "same/b", value: { n: 1 }, ttl: "30s" }, { origin: ORIGIN });
    expect(viaHono.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(fast.headers.get("access-control-allow-origin")).toBeNull();
    for (const r of [fast, viaHono]) {
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(r.headers.get("x-switchboard-index")).toBe(String(r.body.index));
      expect(r.headers.get("x-switchboard-epoch")).toBe(r.body.epoch);
    }
    expect(Object.keys(fast.body)).toEqual(Object.keys(viaHono.body));
    expect(viaHono.body.index).toBe(fast.body.index + 1);
    const strip = (b: any) => b.registers.map(({ name: _n, modRevision: _m, expiresAt: _e, ...rest }: any) => rest);
    expect(strip(fast.body)).toEqual(strip(viaHono.body));
    expect(fast.body.registers[0]).toMatchObject({ name: "same/a", version: 1, changed: true });
    expect(Date.parse(fast.body.registers[0].expiresAt)).toBeGreaterThan(Date.now());

    // The same bad body gets the same coded error on both paths.
    const badFast = await put(srv.url, { name: "same/c", value: 1, ttl: "soon" });
    const badHono = await put(srv.url, { name: "same/c", value: 1, ttl: "soon" }, { origin: ORIGIN });
    expect(badFast.status).toBe(400);
    expect(badFast.body).toEqual(badHono.body);
    expect(badFast.body.error.code).toBe("INVALID_DURATION");
    const written = await metricValue(srv.url, "switchboard_http_requests_total", {
      method: "PUT",
      route: "/provider",
      status: "200",
    });
    expect(written).toBe(2);
  });

  it("refuses a chunked body that grows past --max-body-bytes with 413 and closes the connection", async () => {
    srv = await startTestServer({ config: { maxBodyBytes: 2048 } });
    const s = await openSocket(srv.port);
    s.socket.write(
      "PUT /provider HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const chunk = `{"name":"cap/a","value":"${"x".repeat(1500)}`;
    s.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    s.socket.write(`${(1500).toString(16)}\r\n${"y".repeat(1500)}\r\n`);
    const r = await readResponse(s);
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe("close");
    expect(JSON.parse(r.body).error.code).toBe("BODY_TOO_LARGE");
    await s.closed;
    const read = (await fetch(`${srv.url}/consumer?name=cap/a`).then((x) => x.json())) as any;
    expect(read.registers).toEqual([{ name: "cap/a", found: false }]);
  });

  it("refuses a Content-Length over the cap before reading the body", async () => {
    srv = await startTestServer({ config: { maxBodyBytes: 2048 } });
    const s = await openSocket(srv.port);
    s.socket.write(
      "PUT /provider HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{",
    );
    const r = await readResponse(s);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.code).toBe("BODY_TOO_LARGE");
    s.socket.destroy();
  });

  it("counts a client that hangs up mid-body as 499, writes nothing and logs no fault", async () => {
    srv = await startTestServer();
    const { url, port } = srv;
    const s = await openSocket(port);
    s.socket.write('PUT /provider HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n{"name":"gone/a","value":');
    await until("the request in flight", async () => {
      const n = await metricValue(url, "switchboard_http_requests_in_flight", { method: "PUT", route: "/provider" });
      return n === 1;
    });
    s.socket.destroy();
    await until(
      "the request counted as gone",
      async () =>
        (await metricValue(url, "switchboard_http_requests_total", {
          method: "PUT",
          route: "/provider",
          status: "499",
        })) === 1,
    );
    for (const status of ["500", "200", "400"]) {
      expect(
        await metricValue(url, "switchboard_http_requests_total", { method: "PUT", route: "/provider", status }),
      ).toBeNaN();
    }
    const read = (await fetch(`${url}/consumer?name=gone/a`).then((x) => x.json())) as any;
    expect(read.registers).toEqual([{ name: "gone/a", found: false }]);
  });

  it("still checks the Host header and auth before reading the body", async () => {
    const port = await freePort();
    srv = await startTestServer({ port, config: { allowedHosts: `127.0.0.1:${port}` } });
    const s = await openSocket(srv.port);
    const body = JSON.stringify({ name: "host/a", value: 1 });
    s.socket.write(`PUT /provider HTTP/1.1\r\nHost: evil.test\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const r = await readResponse(s);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error.code).toBe("FORBIDDEN");
    s.socket.destroy();
    const ok = await put(srv.url, { name: "host/a", value: 1 });
    expect(ok.status).toBe(200);
  });
});
