// Proxy benchmark: one 100 MB stream and connection setup through the TCP proxy, each against a direct connection in the same run.
//
// The target is a TCP echo server in its own process; the proxy is a Switchboard in another. The
// client (this process) writes the stream and reads the echo back: throughput = bytes / time until
// the last echoed byte, so both directions of the tunnel are exercised. Setup = connect, send one
// byte (after the id line), receive it back; rounds alternate direct and proxied so load drifts
// hit both alike.

import { once } from "node:events";
import { connect } from "node:net";
import { join } from "node:path";
import { BENCH_DIR, type ServerChild, startNodeServer } from "./lib/children.js";
import type { Section } from "./lib/report.js";
import { ms, percentile, ratio, table } from "./lib/stats.js";

export interface ProxySettings {
  readonly streamBytes: number;
  readonly streamRounds: number;
  readonly setups: number;
}

export const DEFAULT_PROXY_SETTINGS: ProxySettings = { streamBytes: 100 * 1024 * 1024, streamRounds: 3, setups: 2000 };

function portOf(child: ServerChild): number {
  return Number(new URL(child.url).port);
}

/** Streams `total` bytes and resolves with the seconds until all of them came back. */
async function stream(port: number, first: string, total: number): Promise<number> {
  const socket = connect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  await once(socket, "connect");
  const started = performance.now();
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on("data", (c: Buffer) => {
      received += c.length;
      if (received >= total) resolve();
    });
    socket.once("close", () => (received >= total ? resolve() : reject(new Error(`only ${received} bytes came back`))));
    socket.once("error", reject);
  });
  if (first) socket.write(first);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (sent < total) {
    const n = Math.min(chunk.length, total - sent);
    sent += n;
    if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) await once(socket, "drain");
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return seconds;
}

/** Milliseconds from connect() to the first echoed byte. */
async function setup(port: number, first: string): Promise<number> {
  const started = performance.now();
  const socket = connect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  socket.on("error", () => undefined);
  await once(socket, "connect");
  socket.write(`${first}x`);
  await once(socket, "data");
  const elapsed = performance.now() - started;
  socket.destroy();
  return elapsed;
}

export async function runProxyBench(settings: ProxySettings, log: (s: string) => void): Promise<Section> {
  const echo = await startNodeServer("tcp echo", join(BENCH_DIR, "servers/tcp-echo.ts"), []);
  let proxy: ServerChild | undefined;
  try {
    proxy = await startNodeServer("switchboard proxy", join(BENCH_DIR, "servers/proxy-switchboard.ts"), [
      String(portOf(echo)),
    ]);
    const direct = portOf(echo);
    const viaProxy = portOf(proxy);
    const line = "bench/echo\n";
    // Warm both paths (JIT, socket buffers) before measuring.
    await stream(direct, "", 8 * 1024 * 1024);
    await stream(viaProxy, line, 8 * 1024 * 1024);
    const rates = { direct: [] as number[], proxy: [] as number[] };
    for (let i = 0; i < settings.streamRounds; i++) {
      rates.direct.push(settings.streamBytes / (await stream(direct, "", settings.streamBytes)));
      rates.proxy.push(settings.streamBytes / (await stream(viaProxy, line, settings.streamBytes)));
    }
    const setups = { direct: [] as number[], proxy: [] as number[] };
    for (let i = 0; i < settings.setups; i++) {
      setups.direct.push(await setup(direct, ""));
      setups.proxy.push(await setup(viaProxy, line));
    }
    const mbps = (v: number) => `${(v / 1024 / 1024).toFixed(0)} MiB/s`;
    const bestDirect = Math.max(...rates.direct);
    const bestProxy = Math.max(...rates.proxy);
    const medDirect = percentile(rates.direct, 50);
    const medProxy = percentile(rates.proxy, 50);
    const p = (v: number[], q: number) => percentile(v, q);
    const overhead99 = p(setups.proxy, 99) - p(setups.direct, 99);
    log(`proxy stream: ${mbps(medProxy)} vs direct ${mbps(medDirect)}; setup p99 +${ms(overhead99)}`);
    const mib = (settings.streamBytes / 1024 / 1024).toFixed(0);
    const body = [
      `A client writes one ${mib} MiB stream and reads it back from a TCP echo server, directly and through the`,
      "proxy (a Switchboard child with the target's health cached), alternating, " +
        `${settings.streamRounds} rounds each. Then ${settings.setups.toLocaleString("en-US")} connection setups each way`,
      "(connect, send the id line and one byte, receive the byte), alternating.",
      "",
      table(
        ["", "direct", "through the proxy", "proxy / direct"],
        [
          [`${mib} MiB round trip, median`, mbps(medDirect), mbps(medProxy), ratio(medProxy, medDirect)],
          [`${mib} MiB round trip, best`, mbps(bestDirect), mbps(bestProxy), ratio(bestProxy, bestDirect)],
          ["setup p50", ms(p(setups.direct, 50)), ms(p(setups.proxy, 50)), ""],
          ["setup p99", ms(p(setups.direct, 99)), ms(p(setups.proxy, 99)), `+${ms(overhead99)}`],
        ],
      ),
      "",
      "Through the proxy every byte crosses two more sockets and the proxy's process: on a machine whose",
      "cores are shared by client, proxy and target, the ratio is what to compare.",
    ].join("\n");
    return {
      title: "5. TCP proxy",
      body,
      targets: [
        {
          what: `proxy throughput, one ${mib} MiB stream (median)`,
          target: "≥ 0.8× direct",
          measured: ratio(medProxy, medDirect),
          pass: medProxy >= 0.8 * medDirect,
        },
        {
          what: "proxy connection setup p99, health cached",
          target: "< 2 ms over direct",
          measured: `+${ms(overhead99)}`,
          pass: overhead99 < 2,
        },
      ],
    };
  } finally {
    await proxy?.stop();
    await echo.stop();
  }
}
