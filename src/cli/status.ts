// `switchboard status`: what GET /status reports — readiness, revision, registers, held long-polls, listeners, and a
// cluster member's role, writer and log position.

import { type Command, EXIT_ERROR, EXIT_OK, parse, positionals } from "./command.js";
import { CLIENT_OPTIONS, clientFor, optionsHelp } from "./commands.js";
import { table } from "./output.js";

interface StatusBody {
  status: "ready" | "not_ready";
  version: string;
  uptimeSeconds: number;
  revision: number;
  registers: number;
  queuedRequests: number;
  waiters: { consumer: number; provider: number; stream: number };
  storage: { name: string; healthy: boolean };
  listeners: { protocol: string; transport: string; host: string; port: number }[];
  /** Only on a cluster member. */
  cluster?: {
    nodeId: string;
    role: string;
    term: number;
    writer: string | null;
    appliedSequence: number;
    streamSequence?: number;
    lag?: number;
    snapshotSequence?: number;
    connected: boolean;
  };
}

export const statusCommand: Command = {
  name: "status",
  summary: "is the server ready; its revision, registers, held long-polls and listeners",
  help: `Usage: switchboard status [--url URL] [--json]

Asks GET /status. Exits 1 if the server is not ready or cannot be reached.

${optionsHelp()}

Example:
  switchboard status --url http://127.0.0.1:8080`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true });
    positionals(rest, 0, 0, "");
    const client = clientFor(values, io);
    const s = await client.json<StatusBody>("GET", "/status");
    const summary = {
      status: s.status,
      url: client.url,
      version: s.version,
      storage: s.storage.name,
      revision: s.revision,
      registers: s.registers,
      waiters: s.waiters,
      queuedRequests: s.queuedRequests,
      listeners: s.listeners,
      ...(s.cluster ? { cluster: s.cluster } : {}),
    };
    const code = s.status === "ready" ? EXIT_OK : EXIT_ERROR;
    if (values.json) {
      io.out(JSON.stringify(summary));
      return code;
    }
    const w = s.waiters;
    const rows = [
      ["status", summary.status],
      ["url", summary.url],
      ["version", summary.version],
      ["storage", `${summary.storage}${s.storage.healthy ? "" : " (not accepting writes)"}`],
      ["revision", String(summary.revision)],
      ["registers", String(summary.registers)],
      [
        "waiters",
        `${w.consumer + w.provider + w.stream} (consumer ${w.consumer}, provider ${w.provider}, stream ${w.stream})`,
      ],
      ["queued", `${summary.queuedRequests} change requests`],
      ...(s.cluster
        ? [
            [
              "cluster",
              `node ${s.cluster.nodeId}, ${s.cluster.role} (term ${s.cluster.term}), writer ${s.cluster.writer ?? "none"}${s.cluster.connected ? "" : ", NATS unreachable"}`,
            ],
            [
              "log",
              `applied ${s.cluster.appliedSequence}${s.cluster.lag === undefined ? "" : `, lag ${s.cluster.lag}`}${s.cluster.snapshotSequence ? `, snapshot at ${s.cluster.snapshotSequence}` : ""}`,
            ],
          ]
        : []),
      ...s.listeners.map((l) => ["listener", `${l.protocol} ${l.transport}://${l.host}:${l.port}`]),
    ];
    for (const line of table(["", ""], rows).slice(1)) io.out(line);
    return code;
  },
};
