// `switchboard watch`: long-polls GET /consumer with the last index and shows every change until Ctrl-C.

import { ConnectionError } from "@switchboard/client";
import { parseDuration } from "../duration.js";
import { type Client, describeError, isRetryable, type Query } from "./client.js";
import { type Command, EXIT_OK, type Io, parse, UsageError } from "./command.js";
import { CLIENT_OPTIONS, clientFor, optionsHelp } from "./commands.js";
import { REGISTER_HEADER, type RegisterJson, registerRows, table } from "./output.js";

interface PollBody {
  index: number;
  resync?: boolean;
  registers: RegisterJson[];
}

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15_000;

export const watchCommand: Command = {
  name: "watch",
  summary: "show registers and every change to them, until Ctrl-C",
  help: `Usage: switchboard watch NAME... [--url URL] [--json] [--wait DURATION]
       switchboard watch --prefix P [--prefix P2 ...] [NAME...]

Long-polls GET /consumer with the last index, so no change is missed. On a terminal it redraws
a table on each change; otherwise (or with --json) it prints one JSON line per register as it
is first seen and per change after that: the register as GET /consumer shows it plus "index",
with "found": false once deleted or expired. If the server cannot be reached it retries with
backoff, printing one line per attempt. Ctrl-C stops it (exit 0).

${optionsHelp([
  ["--prefix P", "watch every register whose name starts with P (repeatable)"],
  ["--wait DURATION", "how long each poll is held (default 30s)"],
])}

Examples:
  switchboard watch lights/kitchen
  switchboard watch --prefix lights/ --json | jq -c '{name, value}'`,
  async run(argv, io) {
    const { values, positionals: names } = parse({
      args: argv,
      options: {
        ...CLIENT_OPTIONS,
        prefix: { type: "string", multiple: true },
        wait: { type: "string" },
      },
      allowPositionals: true,
    });
    const prefixes = values.prefix ?? [];
    if (names.length === 0 && prefixes.length === 0) throw new UsageError("missing NAME or --prefix");
    let wait = "30s";
    if (values.wait !== undefined) {
      try {
        parseDuration(values.wait, "--wait");
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      wait = values.wait;
    }
    const client = clientFor(values, io);
    const selection: Query = [
      ...names.map((n) => ["name", n] as const),
      ...prefixes.map((p) => ["prefix", p] as const),
    ];
    const label = [...names, ...prefixes.map((p) => `${p}*`)].join(" ");
    const view = io.stdoutIsTTY && !values.json ? screenView(io, client.url, label) : lineView(io);
    return watchLoop(client, selection, wait, view, io);
  },
};

interface View {
  /** Shows the state after a poll; `changed` lists the entries that differ from the previous state. */
  show(index: number, state: ReadonlyMap<string, RegisterJson>, changed: readonly RegisterJson[]): void;
}

async function watchLoop(client: Client, selection: Query, wait: string, view: View, io: Io): Promise<number> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let state = new Map<string, RegisterJson>();
  let index: number | undefined;
  let failures = 0;
  try {
    while (!abort.signal.aborted) {
      let body: PollBody;
      try {
        const query: Query = index === undefined ? selection : [...selection, ["index", String(index)], ["wait", wait]];
        body = await client.json<PollBody>("GET", "/consumer", { query, signal: abort.signal });
      } catch (err) {
        if (abort.signal.aborted) break;
        if (!isRetryable(err)) throw err;
        const delay = backoff(failures++);
        io.err(
          `watch: ${err instanceof ConnectionError ? err.message : describeError(err)}; retrying in ${(delay / 1000).toFixed(1)}s`,
        );
        await sleep(delay, abort.signal);
        // After an outage, start over from the full current state (the server may have restarted).
        index = undefined;
        continue;
      }
      failures = 0;
      const next = new Map<string, RegisterJson>();
      for (const r of body.registers) next.set(r.name, r);
      const changed = diff(state, next);
      if (index === undefined || changed.length > 0) view.show(body.index, next, changed);
      state = next;
      index = body.index;
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
  return EXIT_OK;
}

/**
 * Entries that appeared, changed or vanished (vanished ones as `found: false`). Whole entries are
 * compared, not just modRevision: a server restarted on an empty store reuses revisions.
 */
function diff(before: ReadonlyMap<string, RegisterJson>, after: ReadonlyMap<string, RegisterJson>): RegisterJson[] {
  const out: RegisterJson[] = [];
  for (const [name, r] of after) {
    const old = before.get(name);
    if (!old || JSON.stringify(old) !== JSON.stringify(r)) out.push(r);
  }
  for (const [name, old] of before) if (!after.has(name) && old.found) out.push({ name, found: false });
  return out;
}

function lineView(io: Io): View {
  return {
    show(index, _state, changed) {
      for (const r of changed) io.out(JSON.stringify({ index, ...r }));
    },
  };
}

function screenView(io: Io, url: string, label: string): View {
  return {
    show(index, state) {
      const registers = [...state.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const time = new Date().toTimeString().slice(0, 8);
      // Clear the screen and move home, then draw.
      io.write("\x1b[2J\x1b[H");
      io.out(`watching ${label} at ${url} (index ${index}, ${time}; Ctrl-C to stop)`);
      io.out("");
      if (registers.length === 0) io.out("(no registers)");
      else for (const line of table(REGISTER_HEADER, registerRows(registers), io.columns)) io.out(line);
    },
  };
}

function backoff(failures: number): number {
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** failures);
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
