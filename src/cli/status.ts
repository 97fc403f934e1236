// `switchboard status`: readiness from GET /readyz plus a summary of GET /metrics.

import { type Command, EXIT_OK, parse, positionals } from "./command.js";
import { CLIENT_OPTIONS, clientFor, optionsHelp } from "./commands.js";
import { table } from "./output.js";

export const statusCommand: Command = {
  name: "status",
  summary: "is the server ready; its revision, registers and held long-polls",
  help: `Usage: switchboard status [--url URL] [--json]

Asks GET /readyz and GET /metrics. Exits 1 if the server is not ready or cannot be reached.

${optionsHelp()}

Example:
  switchboard status --url http://127.0.0.1:8080`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true });
    positionals(rest, 0, 0, "");
    const client = clientFor(values.url, io);
    const ready = await client.json<{ status: string; revision: number; storage: string }>("GET", "/readyz");
    const metrics = parseMetrics(await client.text("/metrics"));
    const waiters = {
      consumer: metrics.get('switchboard_waiters{kind="consumer"}') ?? 0,
      provider: metrics.get('switchboard_waiters{kind="provider"}') ?? 0,
    };
    const summary = {
      status: ready.status,
      url: client.url,
      storage: ready.storage,
      revision: metrics.get("switchboard_revision") ?? ready.revision,
      registers: metrics.get("switchboard_registers") ?? 0,
      waiters,
      queuedRequests: metrics.get("switchboard_requests_queued") ?? 0,
    };
    if (values.json) {
      io.out(JSON.stringify(summary));
      return EXIT_OK;
    }
    const rows = [
      ["status", summary.status],
      ["url", summary.url],
      ["storage", summary.storage],
      ["revision", String(summary.revision)],
      ["registers", String(summary.registers)],
      [
        "waiters",
        `${waiters.consumer + waiters.provider} (consumer ${waiters.consumer}, provider ${waiters.provider})`,
      ],
      ["queued", `${summary.queuedRequests} change requests`],
    ];
    for (const line of table(["", ""], rows).slice(1)) io.out(line);
    return EXIT_OK;
  },
};

/** Prometheus text → sample (`name` or `name{labels}`) → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    if (at > 0) out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
