// What every `switchboard` subcommand is: a name, its help text, and a run function over argv and the process streams.

import { type ParseArgsConfig, parseArgs } from "node:util";

/** The process around a command: its output streams and environment (injected so that nothing reaches for globals). */
export interface Io {
  /** Writes one line to stdout. */
  out(line: string): void;
  /** Writes one line to stderr. */
  err(line: string): void;
  /** Writes raw text to stdout (screen control for `watch`). */
  write(text: string): void;
  readonly stdoutIsTTY: boolean;
  /** Terminal width, when stdout is a terminal. */
  readonly columns: number | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** Asks a yes/no question on a terminal; absent when stdin is not one (commands then want --yes). */
  readonly confirm?: (question: string) => Promise<boolean>;
}

export interface Command {
  readonly name: string;
  /** One line for the top-level usage. */
  readonly summary: string;
  /** The full `--help` text. */
  readonly help: string;
  /** Runs the command; resolves with the exit code. Throws UsageError for bad arguments. */
  run(argv: string[], io: Io): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Bad arguments: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const PARSE_ARGS_CODES = new Set([
  "ERR_PARSE_ARGS_UNKNOWN_OPTION",
  "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
  "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL",
]);

/** node:util parseArgs (strict by default), with its errors turned into UsageError. */
export function parse<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && PARSE_ARGS_CODES.has(code)) {
      // parseArgs explains its errors at length; its first sentence is the useful part.
      throw new UsageError((err as Error).message.split(". ")[0]!.replace(/\.$/, ""));
    }
    throw err;
  }
}

/** True when -h or --help appears before a `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "-h" || a === "--help") return true;
  }
  return false;
}

/** Positionals checked against a count: `min` required, `max` allowed (Infinity for NAME...). */
export function positionals(list: readonly string[], min: number, max: number, what: string): string[] {
  if (list.length < min) throw new UsageError(`missing ${what}`);
  if (list.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(list[max])}`);
  return [...list];
}
