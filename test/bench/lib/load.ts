// Closed-loop write load with autocannon: C keep-alive connections, each writing its own key with a changing value.

import autocannon, { type Client, type Result } from "autocannon";

export interface LoadOptions {
  readonly url: string;
  readonly method: "PUT" | "POST";
  readonly path: string;
  /** The JSON body of request number `n` of connection `conn` (distinct keys per connection, a new value each time). */
  readonly body: (conn: number, n: number) => string;
  readonly connections: number;
  readonly seconds: number;
  /** Extra request headers (an Authorization token). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  /** mean requests per second over the run (autocannon samples each second) */
  readonly reqPerSec: number;
  readonly total: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  /** non-2xx answers + socket errors + timeouts */
  readonly failures: number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  let nextConn = 0;
  const instance = autocannon({
    url: `${options.url}${options.path}`,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    setupClient(client: Client) {
      const conn = nextConn++;
      let n = 0;
      client.setRequests([
        {
          method: options.method,
          path: options.path,
          headers: { "content-type": "application/json", ...options.headers },
          setupRequest(req) {
            req.body = options.body(conn, n++);
            return req;
          },
        },
      ]);
    },
  });
  const r: Result = await instance;
  return {
    reqPerSec: r.requests.average,
    total: r.requests.total,
    latencyP50: r.latency.p50,
    latencyP99: r.latency.p99,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

/** A short unmeasured run (JIT, connection set-up, file growth), then the measured one. */
export async function warmAndLoad(options: LoadOptions, warmSeconds = 2): Promise<LoadResult> {
  await load({ ...options, seconds: warmSeconds });
  return load(options);
}
