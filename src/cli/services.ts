// `switchboard services list [--type T]`: the registered services (registers under services/), via GET /registers.

import { type Command, EXIT_OK, parse, positionals, UsageError } from "./command.js";
import { CLIENT_OPTIONS, clientFor, optionsHelp } from "./commands.js";
import { compactJson, type RegisterJson, table } from "./output.js";

const PAGE = 1000;
const TYPE = /^[A-Za-z0-9._:-]{1,100}$/;

/** One service as `--json` prints it. */
interface ServiceJson {
  readonly type: string;
  readonly id: string;
  readonly host: unknown;
  readonly port: unknown;
  readonly value: unknown;
  readonly metadata: Record<string, unknown>;
  readonly expiresAt: string | null;
}

function toService(r: RegisterJson): ServiceJson | null {
  const [, type, id, ...more] = r.name.split("/");
  if (!r.found || !type || !id || more.length > 0) return null;
  const v = (typeof r.value === "object" && r.value !== null ? r.value : {}) as Record<string, unknown>;
  return {
    type,
    id,
    host: v.host,
    port: v.port,
    value: r.value,
    metadata: r.metadata ?? {},
    expiresAt: r.expiresAt ?? null,
  };
}

export const servicesCommand: Command = {
  name: "services",
  summary: "list registered services (services/<type>/<id>), all or of one type",
  help: `Usage: switchboard services list [--type T] [--url URL] [--json]

Lists the services registered by any protocol (REST, ZeroMQ, ...): the registers under
services/<type>/<id>, read with GET /registers?prefix=services/ following the paging cursors.

${optionsHelp([["--type T", "only services of type T (the <type> segment of the name)"]])}

Examples:
  switchboard services list
  switchboard services list --type CM_CS
  switchboard services list --json | jq -r '.services[] | "\\(.host):\\(.port)"'`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, type: { type: "string" } },
      allowPositionals: true,
    });
    const [sub] = positionals(rest, 1, 1, "subcommand (list)");
    if (sub !== "list") throw new UsageError(`unknown subcommand ${JSON.stringify(sub)} (expected list)`);
    if (values.type !== undefined && !TYPE.test(values.type)) {
      throw new UsageError(
        `--type: expected 1-100 characters of A-Z a-z 0-9 . _ - :, got ${JSON.stringify(values.type)}`,
      );
    }
    const prefix = values.type === undefined ? "services/" : `services/${values.type}/`;
    const client = clientFor(values, io);
    const services: ServiceJson[] = [];
    let index = 0;
    let cursor: string | null = null;
    // Bounded: each page advances the cursor, and the server ends the listing with cursor null.
    do {
      const query: [string, string][] = [
        ["prefix", prefix],
        ["limit", String(PAGE)],
      ];
      if (cursor !== null) query.push(["cursor", cursor]);
      const page: { index: number; registers: RegisterJson[]; cursor: string | null } = await client.json(
        "GET",
        "/registers",
        { query },
      );
      index = page.index;
      for (const r of page.registers) {
        const s = toService(r);
        if (s) services.push(s);
      }
      cursor = page.cursor;
    } while (cursor !== null);
    if (values.json) {
      io.out(JSON.stringify({ index, services }));
    } else if (services.length === 0) {
      io.err(values.type === undefined ? "no services" : `no services of type ${values.type}`);
    } else {
      const rows = services.map((s) => [
        s.type,
        s.id,
        `${String(s.host ?? "-")}:${String(s.port ?? "-")}`,
        s.expiresAt ?? "-",
        compactJson(s.metadata),
      ]);
      for (const line of table(["TYPE", "ID", "ENDPOINT", "EXPIRES", "METADATA"], rows, io.columns)) io.out(line);
    }
    return EXIT_OK;
  },
};
