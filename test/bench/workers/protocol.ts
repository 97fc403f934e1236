// Messages between the bench orchestrator and its load workers (test/bench/workers/*.ts), over child-process IPC.

export type WorkerIn =
  /** Send `count` GETs of `url + path` (held long-polls); answer "armed" once all are sent, "done" once all answered. */
  | { type: "longpoll-arm"; url: string; path: string; count: number; round: number; localAddress?: string }
  /** Open `count` etcd watch streams on `key` (base64) through the JSON gateway; answer "ready" once all are created. */
  | { type: "etcd-watch-open"; url: string; key: string; count: number }
  /** Expect the next event on every watch stream to carry `round`; answer "armed" at once, "done" once all got it. */
  | { type: "etcd-expect"; round: number }
  /** Open `count` SSE streams (`GET url + path`); answer "ready" once every stream has its 200 headers. */
  | { type: "sse-open"; url: string; path: string; count: number }
  /** Expect the next `set` frame on every SSE stream to carry `round`; answer "armed" at once, "done" once all got it. */
  | { type: "sse-expect"; round: number }
  /** One @switchboard/client with `count` subscriptions of `name` (one shared poll); "ready" once each had its first item. */
  | { type: "client-open"; url: string; name: string; count: number }
  /** Expect the next item of every subscription to carry `round`; answer "armed" at once, "done" once all got it. */
  | { type: "client-expect"; round: number }
  /** Send `GET url + path` back to back (one in flight) until "stall-stop"; answer "armed" once the first came back. */
  | { type: "stall-start"; url: string; path: string }
  /** Stop the back-to-back loop; answer "stall" with the longest latency seen since "stall-start". */
  | { type: "stall-stop" };

export type WorkerOut =
  | { type: "armed" }
  | { type: "ready" }
  /** Arrival times (ms, CLOCK_MONOTONIC, see nowMs) of the well-formed answers; `bad` counts the others. */
  | { type: "done"; times: number[]; bad: number; badSample?: string }
  /** The stall probe: requests answered, the longest latency (ms), and how many answered other than 200. */
  | { type: "stall"; count: number; maxMs: number; failed: number }
  | { type: "error"; message: string };
