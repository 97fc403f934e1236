// `switchboard watch`: shows registers and every change to them until Ctrl-C, through @switchboard/client's consume().

import type { ConsumeItem, SwitchboardClient } from "@switchboard/client";
import { parseDuration } from "../duration.js";
import { type Client, describeFailure } from "./client.js";
import { type Command, EXIT_OK, type Io, parse, UsageError } from "./command.js";
import { CLIENT_OPTIONS, clientFor, optionsHelp } from "./commands.js";
import { REGISTER_HEADER, type RegisterJson, registerRows, table } from "./output.js";

/** The client's reconnect backoff for a watch: a first retry soon, then no more than every 15 s. */
const RETRY = { initialMs: 500, maxMs: 15_000 };

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
    const client = clientFor(values, io, { consumerWait: wait, retry: RETRY });
    const label = [...names, ...prefixes.map((p) => `${p}*`)].join(" ");
    const view = io.stdoutIsTTY && !values.json ? screenView(io, client.url, label) : lineView(io);
    return watchLoop(client, names, prefixes, view, io);
  },
};

interface View {
  /** Shows the state after a change; `changed` lists the entries that differ from the previous state. */
  show(index: number, state: ReadonlyMap<string, RegisterJson>, changed: readonly RegisterJson[]): void;
  /** Called once the first state of every register and prefix is in (even when none exists). */
  ready?(state: ReadonlyMap<string, RegisterJson>): void;
}

async function watchLoop(
  client: Client,
  names: readonly string[],
  prefixes: readonly string[],
  view: View,
  io: Io,
): Promise<number> {
  const api: SwitchboardClient = client.api;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // One line per retry the client schedules while the server cannot be reached (or answers 5xx).
  const offState = api.onStateChange((s, previous) => {
    if (s.nextAttemptAt === undefined || s.nextAttemptAt === previous.nextAttemptAt || s.lastError === undefined)
      return;
    const delay = Math.max(0, s.nextAttemptAt - Date.now());
    io.err(`watch: ${describeFailure(s.lastError, client.url)}; retrying in ${(delay / 1000).toFixed(1)}s`);
  });
  const state = new Map<string, RegisterJson>();
  const named = new Set(names);
  const show = (item: ConsumeItem) => {
    const r = registerJson(item);
    // A named register stays on screen as not found; one under a prefix leaves it.
    if (r.found || named.has(r.name)) state.set(r.name, r);
    else state.delete(r.name);
    view.show(item.index, state, [r]);
  };
  try {
    // Every subscription shares the client's one long-poll; a missing named register comes first as found: false.
    const subs = [
      ...names.map((n) => api.consume(n, { signal: abort.signal })),
      ...prefixes.map((prefix) => api.consume({ prefix }, { signal: abort.signal })),
    ];
    const read = subs.map(async (sub) => {
      for await (const item of sub) show(item);
    });
    // The first state of every subscription is in: a screen shows it even when nothing is there.
    void Promise.all(subs.map((s) => s.ready)).then(
      () => view.ready?.(state),
      () => {},
    );
    await Promise.all(read);
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    offState();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await api.close();
  }
  return EXIT_OK;
}

/** An item as GET /consumer shows the register (a missing one as `{name, found: false}`). */
function registerJson(item: ConsumeItem): RegisterJson {
  if (!item.found) return { name: item.name, found: false };
  return {
    name: item.name,
    found: true,
    value: item.value,
    metadata: item.metadata,
    version: item.version,
    createRevision: item.createRevision,
    modRevision: item.modRevision,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    expiresAt: item.expiresAt,
  };
}

function lineView(io: Io): View {
  return {
    show(index, _state, changed) {
      for (const r of changed) io.out(JSON.stringify({ index, ...r }));
    },
  };
}

function screenView(io: Io, url: string, label: string): View {
  let index = 0;
  let drawn = false;
  let pending = false;
  const draw = (state: ReadonlyMap<string, RegisterJson>) => {
    pending = false;
    drawn = true;
    const registers = [...state.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const time = new Date().toTimeString().slice(0, 8);
    // Clear the screen and move home, then draw.
    io.write("\x1b[2J\x1b[H");
    io.out(`watching ${label} at ${url} (index ${index}, ${time}; Ctrl-C to stop)`);
    io.out("");
    if (registers.length === 0) io.out("(no registers)");
    else for (const line of table(REGISTER_HEADER, registerRows(registers), io.columns)) io.out(line);
  };
  return {
    show(at, state) {
      index = Math.max(index, at);
      // Items of one answer arrive together: draw once for them.
      if (pending) return;
      pending = true;
      queueMicrotask(() => draw(state));
    },
    ready(state) {
      if (!drawn && !pending) draw(state);
    },
  };
}
