#!/usr/bin/env -S node --max-semi-space-size=64
// The `switchboard` binary: `serve` runs the server; the other commands are HTTP clients of a running one.

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { describeError } from "./cli/client.js";
import { type Command, EXIT_ERROR, EXIT_OK, EXIT_USAGE, type Io, UsageError, wantsHelp } from "./cli/command.js";
import { deleteCommand, getCommand, listCommand, putCommand, requestCommand } from "./cli/commands.js";
import { serveCommand } from "./cli/serve.js";
import { servicesCommand } from "./cli/services.js";
import { statusCommand } from "./cli/status.js";
import { checkCommand, repairCommand } from "./cli/storage.js";
import { policyCommand, tokenCommand } from "./cli/token.js";
import { watchCommand } from "./cli/watch.js";

const COMMANDS: readonly Command[] = [
  serveCommand,
  statusCommand,
  listCommand,
  getCommand,
  putCommand,
  requestCommand,
  watchCommand,
  deleteCommand,
  servicesCommand,
  checkCommand,
  repairCommand,
  tokenCommand,
  policyCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: switchboard <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Client commands talk to --url (default: $SWITCHBOARD_URL, else http://127.0.0.1:8080) and take
--json for the server's raw JSON. Exit codes: 0 ok, 1 error, 2 usage.

Run "switchboard <command> --help" for a command's options, "switchboard --version" for the version.`;
}

function version(): string {
  // src/cli.ts and dist/cli.js both sit one level below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
  return pkg.version ?? "unknown";
}

async function main(argv: readonly string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.err(usage());
    return EXIT_USAGE;
  }
  if (first === "-h" || first === "--help") {
    io.out(usage());
    return EXIT_OK;
  }
  if (first === "-v" || first === "--version") {
    io.out(version());
    return EXIT_OK;
  }
  if (first === "help") {
    const topic = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && !topic) return usageError(io, `unknown command ${JSON.stringify(rest[0])}`);
    io.out(topic ? topic.help : usage());
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    return usageError(
      io,
      first.startsWith("-") ? `expected a command before ${first}` : `unknown command ${JSON.stringify(first)}`,
    );
  }
  if (wantsHelp(rest)) {
    io.out(command.help);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) return usageError(io, err.message, command.name);
    io.err(describeError(err));
    return EXIT_ERROR;
  }
}

function usageError(io: Io, message: string, command?: string): number {
  io.err(`switchboard${command ? ` ${command}` : ""}: ${message}`);
  io.err(`Run "switchboard ${command ? `${command} ` : ""}--help" for usage.`);
  return EXIT_USAGE;
}

const io: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  write: (text) => process.stdout.write(text),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
  env: process.env,
  ...(process.stdin.isTTY
    ? {
        async confirm(question: string) {
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
          } finally {
            rl.close();
          }
        },
      }
    : {}),
};

// `switchboard list | head -1` closes stdout early: that is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? EXIT_OK);
  throw err;
});

const code = await main(process.argv.slice(2), io);
process.exitCode = code;
// Let stdout drain and the event loop end by itself; if some handle lingers, do not hang on it.
setTimeout(() => process.exit(code), 2000).unref();
