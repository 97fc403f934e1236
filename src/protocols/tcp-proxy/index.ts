// The TCP proxy protocol module: its settings and its listener (off unless --proxy-port is set).

import { z } from "zod";
import { parseDuration } from "../../duration.js";
import { defineProtocol, portOption } from "../protocol.js";
import { TcpProxy } from "./proxy.js";

const duration = (defaultMs: number, description: string) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch {
        ctx.addIssue({ code: "custom", message: `not a duration: ${JSON.stringify(v)}` });
        return z.NEVER;
      }
    })
    .default(defaultMs)
    .describe(description);

export const tcpProxyProtocol = defineProtocol({
  name: "tcp-proxy",
  // A client names any registered endpoint and gets a pipe to it, with no token: loopback only when auth is on.
  credentials: "none",
  options: z.object({
    proxyPort: portOption("off", "TCP port of the health-aware proxy (off = not started; the seed's port is 9000)"),
    proxyMaxConnections: z.coerce
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe("client connections the proxy holds at once; more are refused"),
    proxyConnectTimeout: duration(5000, "how long the proxy waits to connect to a target"),
    proxyIdleTimeout: duration(300_000, "a tunnel with no byte either way for this long is closed"),
    proxyFirstLineTimeout: duration(5000, "how long a client may take to send its first line (the target id)"),
  }),
  create(ctx, o) {
    const proxy =
      o.proxyPort === null
        ? null
        : new TcpProxy(ctx, {
            port: o.proxyPort,
            maxConnections: o.proxyMaxConnections,
            connectTimeoutMs: o.proxyConnectTimeout,
            idleTimeoutMs: o.proxyIdleTimeout,
            firstLineTimeoutMs: o.proxyFirstLineTimeout,
          });
    return {
      async start() {
        if (!proxy) return [];
        const port = await proxy.listen(ctx.host);
        return [{ protocol: "tcp-proxy", transport: "tcp", host: ctx.host, port }];
      },
      stop: async (deadlineMs) => proxy?.stop(deadlineMs),
    };
  },
});
