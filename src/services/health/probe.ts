// Live probes: an HTTP(S) GET of a health URL (2xx passes, no redirects, capped body) or a TCP connect.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { HealthResult, HealthStatus } from "./types.js";

export interface ProbeOptions {
  /** Whole probe deadline, ms (connect + response + body). */
  readonly timeoutMs: number;
  /** Bytes of the response body kept as `output`; the rest is not read. */
  readonly maxBodyBytes: number;
  /** Epoch ms source for checkedAt (the injected clock). */
  readonly now: () => number;
}

/** Consul's reading of a status code: 2xx passing, 429 warning (alive but shedding), anything else critical. */
function statusOf(code: number): HealthStatus {
  if (code >= 200 && code < 300) return "passing";
  if (code === 429) return "warning";
  return "critical";
}

const OUTPUT_CHARS = 512;

function result(status: HealthStatus, started: number, opts: ProbeOptions, output: string): HealthResult {
  return {
    status,
    checkedAt: opts.now(),
    latencyMs: Math.max(0, Math.round(performance.now() - started)),
    // What is published as metadata stays small whatever the target sent.
    output: output.length > OUTPUT_CHARS ? `${output.slice(0, OUTPUT_CHARS)}…` : output,
  };
}

/**
 * GETs `url` once. Redirects are answers, not followed (a 3xx is critical: a health URL that
 * moved is a misconfiguration the operator should see). Never rejects: every failure is a
 * critical result whose output says why.
 */
export function probeHttp(url: URL, opts: ProbeOptions): Promise<HealthResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: HealthResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", headers: { accept: "*/*", "user-agent": "switchboard-health" } }, (res) => {
      const code = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      const complete = () => {
        const body = Buffer.concat(chunks).toString("utf8").trim();
        finish(result(statusOf(code), started, opts, body === "" ? `HTTP ${code}` : `HTTP ${code}: ${body}`));
      };
      res.on("data", (chunk: Buffer) => {
        const room = opts.maxBodyBytes - kept;
        if (room > 0) {
          chunks.push(chunk.subarray(0, room));
          kept += Math.min(room, chunk.length);
        }
        // Enough read: the verdict is the status code, the body is only output.
        if (kept >= opts.maxBodyBytes) complete();
      });
      res.on("end", complete);
      res.on("error", (err) => finish(result("critical", started, opts, `HTTP ${code}: ${err.message}`)));
    });
    const timer = setTimeout(
      () => finish(result("critical", started, opts, `timed out after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    req.on("error", (err) => finish(result("critical", started, opts, err.message)));
    req.end();
  });
}

/** Opens and closes a TCP connection to host:port. Never rejects. */
export function probeTcp(host: string, port: number, opts: ProbeOptions): Promise<HealthResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (r: HealthResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish(result("critical", started, opts, `connect timed out after ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    socket.once("connect", () => finish(result("passing", started, opts, `TCP connect to ${host}:${port} succeeded`)));
    socket.once("error", (err) => finish(result("critical", started, opts, err.message)));
  });
}
