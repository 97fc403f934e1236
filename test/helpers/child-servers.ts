// Real Switchboards in child processes on chosen ports (SIGKILL-able) and a TCP relay that keeps one URL across them.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ChildServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: no flush, no goodbye; resolves once the process is gone (the port is free again). */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Starts test/helpers/child-server.ts on `port` (0 = any) over `dataDir`; `env` adds SWITCHBOARD_* settings. */
export async function startChild(dataDir: string, port = 0, env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/helpers/child-server.ts", dataDir, "strict", String(port)],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env },
    },
  );
  live.add(child);
  child.once("exit", () => live.delete(child));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return {
    url,
    port: Number(new URL(url).port),
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

/** Kills every child still running (for afterEach/afterAll). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGKILL");
        }),
    ),
  );
}

/**
 * A TCP relay on a fixed loopback port in front of the real servers, so a client keeps one URL while the
 * test kills one server and brings up another (started ahead of time: a cold start takes seconds). With
 * no target, connections are cut at once, as by a dead host.
 */
export interface Relay {
  readonly url: string;
  /** Points new connections at `port` (null: refuse), cutting every open one. */
  target(port: number | null): void;
  close(): Promise<void>;
}

export async function startRelay(port: number | null): Promise<Relay> {
  const { createServer, connect } = await import("node:net");
  let to = port;
  const open = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.on("error", () => socket.destroy());
    if (to === null) {
      socket.destroy();
      return;
    }
    const upstream = connect(to, "127.0.0.1");
    open.add(upstream);
    upstream.once("close", () => {
      open.delete(upstream);
      socket.destroy();
    });
    upstream.on("error", () => upstream.destroy());
    socket.once("close", () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as import("node:net").AddressInfo;
  const cut = () => {
    for (const s of open) s.destroy();
    open.clear();
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    target(port) {
      to = port;
      cut();
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
