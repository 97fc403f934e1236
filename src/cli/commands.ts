// The one-shot client commands list, get, put, request and delete (each one or a few HTTP calls).

import { type Client, createClient, resolveUrl } from "./client.js";
import { type Command, EXIT_ERROR, EXIT_OK, type Io, parse, positionals, UsageError } from "./command.js";
import { compactJson, REGISTER_HEADER, type RegisterJson, registerRows, table } from "./output.js";

/** Options every client command takes. */
export const CLIENT_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const CLIENT_OPTION_ROWS: ReadonlyArray<readonly [string, string]> = [
  ["--url URL", "server to talk to (default: $SWITCHBOARD_URL, else http://127.0.0.1:8080)"],
  ["--token T", "token sent as Authorization: Bearer (default: $SWITCHBOARD_TOKEN); needed when auth is on"],
  ["--json", "print the server's JSON instead of text"],
  ["-h, --help", "show this help"],
];

/** The "Options:" block of a client command's help: its own options, then the common ones, in one column. */
export function optionsHelp(own: ReadonlyArray<readonly [string, string]> = []): string {
  const rows = [...own, ...CLIENT_OPTION_ROWS];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return `Options:\n${rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join("\n")}`;
}

/** The client of a command: `--url`/`$SWITCHBOARD_URL` and `--token`/`$SWITCHBOARD_TOKEN`. */
export function clientFor(
  values: { url?: string | undefined; token?: string | undefined },
  io: Io,
  options: Parameters<typeof createClient>[2] = {},
): Client {
  const token = values.token ?? (io.env.SWITCHBOARD_TOKEN || undefined);
  return createClient(resolveUrl(values.url, io.env), token, options);
}

/** A JSON argument (value, metadata); text that is not JSON is taken as a string. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const PAGE = 1000;

export const listCommand: Command = {
  name: "list",
  summary: "list registers (all pages, or the first N)",
  help: `Usage: switchboard list [--prefix P] [--limit N] [--url URL] [--json]

Lists registers in name order via GET /registers, following the paging cursors.

${optionsHelp([
  ["--prefix P", 'only names starting with P (e.g. "lights/")'],
  ["--limit N", "at most N registers (default: all)"],
])}

Examples:
  switchboard list
  switchboard list --prefix lights/ --limit 10
  switchboard list --json | jq '.registers[].name'`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, prefix: { type: "string" }, limit: { type: "string" } },
      allowPositionals: true,
    });
    positionals(rest, 0, 0, "");
    let limit = Number.POSITIVE_INFINITY;
    if (values.limit !== undefined) {
      if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) {
        throw new UsageError(`--limit: expected a positive integer, got ${JSON.stringify(values.limit)}`);
      }
      limit = Number(values.limit);
    }
    const client = clientFor(values, io);
    const registers: RegisterJson[] = [];
    let index = 0;
    let cursor: string | null = null;
    do {
      const query: [string, string][] = [["limit", String(Math.min(PAGE, limit - registers.length))]];
      if (values.prefix !== undefined) query.push(["prefix", values.prefix]);
      if (cursor !== null) query.push(["cursor", cursor]);
      const page: { index: number; registers: RegisterJson[]; cursor: string | null } = await client.json(
        "GET",
        "/registers",
        { query },
      );
      index = page.index;
      registers.push(...page.registers);
      cursor = page.cursor;
    } while (cursor !== null && registers.length < limit);
    if (values.json) {
      io.out(JSON.stringify({ index, registers, cursor }));
    } else if (registers.length === 0) {
      io.err("no registers");
    } else {
      for (const line of table(REGISTER_HEADER, registerRows(registers), io.columns)) io.out(line);
    }
    return EXIT_OK;
  },
};

export const getCommand: Command = {
  name: "get",
  summary: "print the value of registers",
  help: `Usage: switchboard get NAME... [--url URL] [--json]

Reads registers via GET /consumer. With one NAME, prints its value as JSON; with several, one
"NAME VALUE" line each. Exits 1 if any register does not exist.

${optionsHelp()}

Examples:
  switchboard get lights/kitchen
  switchboard get lights/kitchen lights/hall --json`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({ args: argv, options: CLIENT_OPTIONS, allowPositionals: true });
    const names = positionals(rest, 1, Number.POSITIVE_INFINITY, "NAME");
    const client = clientFor(values, io);
    const body: { index: number; registers: RegisterJson[] } = await client.json("GET", "/consumer", {
      query: names.map((n) => ["name", n] as const),
    });
    const missing = body.registers.filter((r) => !r.found);
    if (values.json) {
      io.out(JSON.stringify(body));
    } else if (names.length === 1) {
      const [r] = body.registers;
      if (r?.found) io.out(compactJson(r.value));
    } else {
      const rows = body.registers.filter((r) => r.found).map((r) => [r.name, compactJson(r.value)]);
      for (const line of table(["", ""], rows).slice(1)) io.out(line);
    }
    for (const r of missing) io.err(`error REGISTER_NOT_FOUND: register ${JSON.stringify(r.name)} does not exist`);
    return missing.length > 0 ? EXIT_ERROR : EXIT_OK;
  },
};

const IF_VERSION = { type: "string" } as const;
const IF_VERSION_HELP: [string, string] = [
  "--if-version N",
  "only if the register is at version N (0: only if it does not exist); else exit 1 with VERSION_CONFLICT",
];

/** --if-version's value: a non-negative integer, or a usage error. */
function ifVersionOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw))
    throw new UsageError(`--if-version: expected a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export const putCommand: Command = {
  name: "put",
  summary: "set a register's value (provider side)",
  help: `Usage: switchboard put NAME VALUE [--metadata JSON] [--ttl DURATION] [--if-version N] [--url URL] [--json]

Sets a register via PUT /provider. VALUE is parsed as JSON; anything that is not valid JSON is
stored as a string. A VALUE that starts with "-" goes after "--".

${optionsHelp([
  ["--metadata JSON", "a JSON object stored with the value"],
  ["--ttl DURATION", "expire unless set again within it: 30 (seconds), 500ms, 30s, 5m, 1h"],
  IF_VERSION_HELP,
])}

Examples:
  switchboard put lights/kitchen '"on"'
  switchboard put lights/kitchen on                       # same: not JSON, so a string
  switchboard put sensors/temp '{"c": 21.5}' --metadata '{"unit": "C"}' --ttl 30s
  switchboard put sensors/offset -- -5
  switchboard put config/mode eco --if-version 0          # create only`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, metadata: { type: "string" }, ttl: { type: "string" }, "if-version": IF_VERSION },
      allowPositionals: true,
    });
    const [name, value] = positionals(rest, 2, 2, rest.length === 0 ? "NAME and VALUE" : "VALUE") as [string, string];
    const register: Record<string, unknown> = { name, value: parseValue(value) };
    if (values.metadata !== undefined) {
      const metadata = parseValue(values.metadata);
      if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
        throw new UsageError('--metadata: expected a JSON object, like \'{"unit":"C"}\'');
      }
      register.metadata = metadata;
    }
    if (values.ttl !== undefined) register.ttl = values.ttl;
    const ifVersion = ifVersionOf(values["if-version"]);
    if (ifVersion !== undefined) register.ifVersion = ifVersion;
    const body: {
      index: number;
      registers: { name: string; version: number; modRevision: number; changed: boolean; expiresAt: string | null }[];
    } = await clientFor(values, io).json("PUT", "/provider", { body: register });
    if (values.json) {
      io.out(JSON.stringify(body));
      return EXIT_OK;
    }
    for (const r of body.registers) {
      const parts = [`version ${r.version}`, `revision ${r.modRevision}`];
      if (!r.changed) parts.push("unchanged");
      if (r.expiresAt !== null) parts.push(`expires ${r.expiresAt}`);
      io.out(`${r.name}: ${parts.join(", ")}`);
    }
    return EXIT_OK;
  },
};

export const requestCommand: Command = {
  name: "request",
  summary: "ask a register's provider to change its value (consumer side)",
  help: `Usage: switchboard request NAME VALUE [--requester WHO] [--if-version N] [--url URL] [--json]

Queues a change request via PUT /consumer and prints its id. VALUE is parsed like in "put".
The provider receives it on its next GET /provider poll. Exits 1 if the register does not
exist (REGISTER_NOT_FOUND), its queue is full (QUEUE_FULL) or --if-version does not hold
(VERSION_CONFLICT).

${optionsHelp([["--requester WHO", "who asks (passed on to the provider)"], IF_VERSION_HELP])}

Example:
  switchboard request lights/kitchen '"off"' --requester app`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, requester: { type: "string" }, "if-version": IF_VERSION },
      allowPositionals: true,
    });
    const [name, value] = positionals(rest, 2, 2, rest.length === 0 ? "NAME and VALUE" : "VALUE") as [string, string];
    const request: Record<string, unknown> = { name, value: parseValue(value) };
    if (values.requester !== undefined) request.requester = values.requester;
    const ifVersion = ifVersionOf(values["if-version"]);
    if (ifVersion !== undefined) request.ifVersion = ifVersion;
    const body: { index: number; requests: { id: number; name: string }[] } = await clientFor(values, io).json(
      "PUT",
      "/consumer",
      { body: request },
    );
    if (values.json) io.out(JSON.stringify(body));
    else for (const r of body.requests) io.out(String(r.id));
    return EXIT_OK;
  },
};

export const deleteCommand: Command = {
  name: "delete",
  summary: "delete registers (provider side)",
  help: `Usage: switchboard delete NAME... [--if-version N] [--url URL] [--json]

Deletes registers via DELETE /provider, dropping their pending change requests. Names that do
not exist are reported on stderr but are not an error (deleting is idempotent). With
--if-version every name must be at that version, or nothing is deleted (VERSION_CONFLICT).

${optionsHelp([IF_VERSION_HELP])}

Example:
  switchboard delete lights/kitchen lights/hall`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { ...CLIENT_OPTIONS, "if-version": IF_VERSION },
      allowPositionals: true,
    });
    const names = positionals(rest, 1, Number.POSITIVE_INFINITY, "NAME");
    const ifVersion = ifVersionOf(values["if-version"]);
    const body: { index: number; deleted: string[] } = await clientFor(values, io).json("DELETE", "/provider", {
      query: [
        ...names.map((n) => ["name", n] as const),
        ...(ifVersion === undefined ? [] : [["ifVersion", String(ifVersion)] as const]),
      ],
    });
    if (values.json) {
      io.out(JSON.stringify(body));
      return EXIT_OK;
    }
    const deleted = new Set(body.deleted);
    for (const n of new Set(names)) {
      if (deleted.has(n)) io.out(`deleted ${n}`);
      else io.err(`not found: ${n}`);
    }
    return EXIT_OK;
  },
};
