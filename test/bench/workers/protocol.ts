// Messages between the bench orchestrator and its load workers (test/bench/workers/*.ts), over child-process IPC.

export type WorkerIn =
  /** Send `count` GETs of `url + path` (held long-polls); answer "armed" once all are sent, "done" once all answered. */
  | { type: "longpoll-arm"; url: string; path: string; count: number; round: number }
  /** Open `count` etcd watch streams on `key` (base64) through the JSON gateway; answer "ready" once all are created. */
  | { type: "etcd-watch-open"; url: string; key: string; count: number }
  /** Expect the next event on every watch stream to carry `round`; answer "armed" at once, "done" once all got it. */
  | { type: "etcd-expect"; round: number };

export type WorkerOut =
  | { type: "armed" }
  | { type: "ready" }
  /** Arrival times (ms, CLOCK_MONOTONIC, see nowMs) of the well-formed answers; `bad` counts the others. */
  | { type: "done"; times: number[]; bad: number; badSample?: string }
  | { type: "error"; message: string };
