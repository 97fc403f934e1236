// A throw-away single-node etcd on loopback (client 127.0.0.1:23790, peer 127.0.0.1:23800) for the baseline runs.

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { makeTempDir } from "../../helpers/temp-dir.js";
import { attach, type ServerChild, sleep } from "./children.js";
import { requestJson } from "./http.js";

export const ETCD_CLIENT_URL = "http://127.0.0.1:23790";
const PEER_URL = "http://127.0.0.1:23800";

export interface Etcd extends ServerChild {
  readonly version: string;
}

/** The etcd binary (PATH, then Debian's /usr/bin/etcd), or null. */
export function findEtcd(): string | null {
  const which = spawnSync("sh", ["-c", "command -v etcd"], { encoding: "utf8" });
  const found = which.status === 0 ? which.stdout.trim() : "";
  if (found) return found;
  return existsSync("/usr/bin/etcd") ? "/usr/bin/etcd" : null;
}

/** Starts etcd with a temp data dir; `stop()` ends it and removes the dir. Throws with the reason if it cannot. */
export async function startEtcd(): Promise<Etcd> {
  const bin = findEtcd();
  if (!bin) throw new Error("etcd is not installed (Debian: apt-get install -y etcd-server)");
  const versionOut = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout ?? "";
  const version = /etcd Version: (\S+)/.exec(versionOut)?.[1] ?? "unknown";
  const dir = await makeTempDir("switchboard-bench-etcd-");
  const child = spawn(
    bin,
    [
      "--name=bench",
      `--data-dir=${dir.path}`,
      `--listen-client-urls=${ETCD_CLIENT_URL}`,
      `--advertise-client-urls=${ETCD_CLIENT_URL}`,
      `--listen-peer-urls=${PEER_URL}`,
      `--initial-advertise-peer-urls=${PEER_URL}`,
      `--initial-cluster=bench=${PEER_URL}`,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-level=error",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let server: ServerChild;
  try {
    server = await attach(`etcd ${version}`, child, async () => {
      while (child.exitCode === null && child.signalCode === null) {
        try {
          const res = await requestJson("GET", `${ETCD_CLIENT_URL}/health`);
          if ((res.body as { health?: string } | null)?.health === "true") return ETCD_CLIENT_URL;
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      throw new Error("etcd exited");
    });
  } catch (err) {
    await dir.cleanup();
    throw err;
  }
  return {
    ...server,
    version,
    async stop() {
      await server.stop(10_000);
      await rm(dir.path, { recursive: true, force: true });
    },
  };
}

export const b64 = (s: string) => Buffer.from(s).toString("base64");

/** The body of an etcd v3 JSON-gateway put: connection `conn` writes its own key, a new value every time. */
export const etcdPutBody = (conn: number, n: number) =>
  JSON.stringify({
    key: b64(`bench/put/c${conn}`),
    value: b64(JSON.stringify({ n, at: "2025-01-01T00:00:00.000Z", ok: true })),
  });
