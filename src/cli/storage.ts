// `switchboard check` and `switchboard repair`: offline verification and repair of a file-store data directory.

import { resolve } from "node:path";
import { type CheckReport, checkDataDir, repairDataDir } from "../storage/file/check.js";
import { type Command, EXIT_ERROR, EXIT_OK, type Io, parse, positionals, UsageError } from "./command.js";

const OPTIONS = {
  "data-dir": { type: "string" },
  json: { type: "boolean", default: false },
} as const;

function dataDir(values: { "data-dir"?: string | undefined }, io: Io): string {
  const dir = values["data-dir"] ?? io.env.SWITCHBOARD_DATA_DIR;
  if (!dir) throw new UsageError("name the directory with --data-dir DIR");
  if (dir === ":memory:") throw new UsageError(":memory: keeps nothing to check");
  return resolve(dir);
}

function printReport(r: CheckReport, io: Io): void {
  io.out(`data directory ${r.dir}`);
  if (r.snapshot) {
    const s = r.snapshot;
    io.out(`  ${s.file}: revision ${s.revision}, ${s.registers} registers, ${s.requests} requests — checksums ok`);
  } else io.out("  no snapshot");
  for (const s of r.segments) {
    io.out(s.commits < 0 ? `  ${s.file}: damaged` : `  ${s.file}: ${s.commits} commits, ${s.bytes} bytes`);
  }
  if (r.firstBad) io.out(`  first bad record: ${r.firstBad.file} at byte ${r.firstBad.byte}: ${r.firstBad.reason}`);
  for (const f of r.fatal) io.out(`  cannot be repaired by cutting the log: ${f}`);
  io.out(r.ok ? "ok" : "damaged");
}

export const checkCommand: Command = {
  name: "check",
  summary: "verify every checksum of a data directory (offline)",
  help: `Usage: switchboard check --data-dir DIR [--json]

Reads the snapshot and every log segment of DIR and verifies each record's checksum, without
changing anything (a running server may keep running). Reports the first bad record, if any.
Exits 0 when everything is sound, 1 otherwise.

Options:
  --data-dir DIR   the directory (default: $SWITCHBOARD_DATA_DIR)
  --json           print the report as JSON`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({ args: argv, options: OPTIONS, allowPositionals: true });
    positionals(rest, 0, 0, "");
    const report = await checkDataDir(dataDir(values, io));
    if (values.json) io.out(JSON.stringify(report));
    else printReport(report, io);
    return report.ok ? EXIT_OK : EXIT_ERROR;
  },
};

export const repairCommand: Command = {
  name: "repair",
  summary: "cut a damaged log at its first bad record, keeping the cut part (offline)",
  help: `Usage: switchboard repair --data-dir DIR [--yes]

Checks DIR like "switchboard check", then cuts the log at the first bad record: the bytes from
there are copied to damaged-<time>.bin in DIR, and later log segments are renamed
damaged-<time>-log-….jsonl. Nothing is deleted. Commits after the damage are not replayed.
The server must be stopped (the directory's lock is taken). Asks for confirmation on a terminal;
elsewhere pass --yes. A damaged snapshot cannot be repaired this way: restore it from a backup.

Options:
  --data-dir DIR   the directory (default: $SWITCHBOARD_DATA_DIR)
  --yes            do not ask`,
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: { "data-dir": OPTIONS["data-dir"], yes: { type: "boolean", default: false } },
      allowPositionals: true,
    });
    positionals(rest, 0, 0, "");
    const report = await checkDataDir(dataDir(values, io));
    printReport(report, io);
    if (report.firstBad === null) {
      if (report.fatal.length > 0) return EXIT_ERROR;
      io.out("nothing to repair");
      return EXIT_OK;
    }
    const question = `cut ${report.firstBad.file} at byte ${report.firstBad.byte} (the cut part is kept)?`;
    const confirmed = values.yes || (io.confirm !== undefined && (await io.confirm(question)));
    if (!confirmed) {
      io.err(io.confirm === undefined ? "not a terminal: pass --yes to repair" : "not repaired");
      return EXIT_ERROR;
    }
    const result = await repairDataDir(report);
    if (result === null) return EXIT_OK;
    const lost = result.cut.revisions ? `, revisions ${result.cut.revisions.first}–${result.cut.revisions.last}` : "";
    io.out(
      `cut ${result.cut.file} at byte ${result.cut.from}; kept bytes ${result.cut.from}–${result.cut.to} in ${result.cut.copy}${lost}`,
    );
    for (const f of result.movedAside) io.out(`moved aside ${f}`);
    return report.fatal.length > 0 ? EXIT_ERROR : EXIT_OK;
  },
};
