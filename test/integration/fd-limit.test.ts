// At a lowered open-file limit (`ulimit -n` in a child process) the defaults hold: polls get 429, new connections
// 503, and /healthz, /readyz and /metrics keep answering — nothing is reset for lack of descriptors.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterEach, expect, it } from "vitest";
import { openSocket, rawRequest, readResponse } from "../helpers/raw-http.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";

const FD_LIMIT = 256;
let child: ChildProcess | undefined;
let dir: TempDir | undefined;
afterEach(async () => {
  if (child?.exitCode === null) child.kill("SIGKILL");
  await dir?.cleanup();
});

async function startWithFdLimit(dataDir: string): Promise<number> {
  const c = spawn(
    "bash",
    [
      "-c",
      `ulimit -n ${FD_LIMIT} && exec "$0" --import tsx test/helpers/child-server.ts "$1"`,
      process.execPath,
      dataDir,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  child = c;
  const lines = createInterface({ input: c.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    c.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return Number(new URL(url).port);
}

it(`with ulimit -n ${FD_LIMIT}, the defaults keep health checks answering when clients take every connection`, async () => {
  dir = await makeTempDir("switchboard-fd-");
  const port = await startWithFdLimit(dir.path);
  const put = await rawRequest(
    port,
    'PUT /provider HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 28\r\n\r\n{"name":"watched","value":0}',
  );
  const index = (JSON.parse(put.body) as { index: number }).index;
  // Defaults: maxConnections = 256 - (64 + 2 %) = 186, maxWaiters = 186 - 64 = 122.
  const sockets = [];
  for (let i = 0; i < 186; i++) {
    const s = await openSocket(port);
    s.socket.write(`GET /consumer?name=watched&index=${index}&wait=30s HTTP/1.1\r\nHost: t\r\n\r\n`);
    sockets.push(s);
  }
  try {
    // Past maxWaiters the polls are answered 429 at once (their connections stay open, keep-alive).
    const answered = await Promise.all(sockets.slice(122).map((s) => readResponse(s)));
    expect(answered.map((r) => r.status)).toEqual(answered.map(() => 429));
    expect(JSON.parse(answered[0]!.body)).toMatchObject({ error: { code: "TOO_MANY_WAITERS" } });

    const refused = await rawRequest(port, "GET /consumer?name=nothing HTTP/1.1\r\nHost: t\r\n\r\n");
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBeDefined();
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "TOO_MANY_CONNECTIONS" } });
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
      expect(r.status, path).toBe(200);
    }
  } finally {
    for (const s of sockets) s.socket.destroy();
  }
}, 30_000);
