// A small keep-alive HTTP client for the orchestrator's own requests (the timed writes, counters).

import http from "node:http";
import { metricValue } from "../../helpers/server.js";

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

/** One request with a JSON body (if any), resolving with the parsed JSON answer. */
export function requestJson(method: string, url: string, body?: unknown): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers:
          payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
          } catch {
            reject(new Error(`${method} ${url}: ${res.statusCode} not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Long-polls held by a server: switchboard_waiters{kind="consumer"} from /metrics, or the bare baseline's /waiters. */
export async function heldPolls(url: string, kind: "switchboard" | "bare"): Promise<number> {
  if (kind === "switchboard") return metricValue(url, "switchboard_waiters", { kind: "consumer" });
  const res = await requestJson("GET", `${url}/waiters`);
  return (res.body as { consumer: number }).consumer;
}

export function closeAgent(): void {
  agent.destroy();
}
