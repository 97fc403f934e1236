// The RPyC registry dialect: stock rpyc servers register and rpyc clients discover over UDP and TCP on one port.

import { lookup } from "node:dns/promises";
import { z } from "zod";
import { DEFAULT_LIMITS, SwitchboardError } from "../../core/index.js";
import { parseDuration } from "../../duration.js";
import { allowOption, NetworkGate, policyOption } from "../network.js";
import { defineProtocol, type Listener, portOption, switchOption } from "../protocol.js";
import { createRegistryHandler, PROTOCOL } from "./registry.js";
import { listenTcp, type TcpRegistry } from "./tcp.js";
import { listenUdp, type UdpRegistry } from "./udp.js";

/** With port 0, UDP takes the port TCP got; if another socket holds that UDP port, try a new pair. */
const EPHEMERAL_ATTEMPTS = 20;

/** A lease: positive, and no longer than the core accepts as a TTL (else every REGISTER would fail). */
const lease = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    const ms = parseDuration(v);
    if (ms >= 1 && ms <= DEFAULT_LIMITS.maxTtlMs) return ms;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: `not a duration between 1ms and 366 days: ${JSON.stringify(v)}` });
  return z.NEVER;
});

export const rpycProtocol = defineProtocol({
  name: PROTOCOL,
  // Its wire carries no token: with auth on it listens on loopback only (see ProtocolModule.credentials).
  credentials: "none",
  allowOption: "rpycAllow",
  options: z.object({
    rpycPort: portOption(18811, "RPyC registry port, UDP and TCP (0 = any free port, off = no RPyC registry)"),
    rpycPrune: lease.default(240_000).describe("an RPyC registration not renewed within this is dropped (its lease)"),
    rpycAllowList: switchOption(true, "answer RPyC LIST requests (off: LIST answers None)"),
    rpycAllow: allowOption("rpyc-allow"),
    rpycPolicy: policyOption("rpyc-policy"),
  }),
  create({ core, services, metrics, log, host }, options) {
    const gate = new NetworkGate(
      { allow: options.rpycAllow, policy: options.rpycPolicy, auth: services.auth, flag: "rpyc" },
      (address) => {
        metrics.errors.labels(PROTOCOL, "NETWORK_REFUSED").inc();
        log.warn({ address }, "rpyc request refused: not in --rpyc-allow");
      },
    );
    const handle = createRegistryHandler(
      { core, services, metrics, log, gate },
      { pruneMs: options.rpycPrune, allowListing: options.rpycAllowList },
    );
    let udp: UdpRegistry | undefined;
    let tcp: TcpRegistry | undefined;

    const bindBoth = async (address: string, family: 4 | 6, port: number) => {
      const t = await listenTcp(address, port, handle, log, metrics);
      try {
        return { tcp: t, udp: await listenUdp(address, family, t.port, handle, log, metrics) };
      } catch (err) {
        await t.close(0);
        throw err;
      }
    };

    return {
      async start(): Promise<Listener[]> {
        if (options.rpycPort === null) return [];
        const port = options.rpycPort;
        const { address, family } = await lookup(host);
        const v = family === 6 ? 6 : 4;
        const where = v === 6 ? `[${address}]` : address;
        for (let attempt = 1; ; attempt++) {
          try {
            ({ tcp, udp } = await bindBoth(address, v, port));
            break;
          } catch (err) {
            const code = (err as { code?: unknown }).code;
            if (port === 0 && code === "EADDRINUSE" && attempt < EPHEMERAL_ATTEMPTS) continue;
            throw new SwitchboardError(
              "INVALID_CONFIG",
              `--rpyc-port ${port}: cannot listen on ${where}:${port} (UDP and TCP): ${listenError(code, err)}`,
              { details: { setting: "rpycPort", address, port, cause: typeof code === "string" ? code : null } },
            );
          }
        }
        log.debug({ address, port: tcp.port, pruneMs: options.rpycPrune }, "rpyc registry listening");
        return [
          { protocol: PROTOCOL, transport: "udp", host: address, port: udp.port },
          { protocol: PROTOCOL, transport: "tcp", host: address, port: tcp.port },
        ];
      },
      async stop(deadlineMs) {
        await Promise.all([udp?.close(), tcp?.close(deadlineMs)]);
      },
    };
  },
});

function listenError(code: unknown, err: unknown): string {
  if (code === "EADDRINUSE") return "the address is already in use";
  if (code === "EACCES") return "permission denied";
  if (code === "EADDRNOTAVAIL") return "no such local address";
  return err instanceof Error ? err.message : String(err);
}
