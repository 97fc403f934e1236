// `switchboard serve`: config from flags > env > file, start the server, and stop it gracefully on SIGINT/SIGTERM.

import type { ParseArgsConfig } from "node:util";
import type { z } from "zod";
import { CONFIG_KEYS, type Config, flagName, loadConfig, SETTINGS } from "../config.js";
import { isSwitchboardError } from "../core/index.js";
import { formatDuration } from "../duration.js";
import { createLogger } from "../logger.js";
import { startServer } from "../server.js";
import { type Command, EXIT_ERROR, EXIT_OK, type Io, parse, positionals } from "./command.js";

const isBooleanKey = (key: string) => key === "logPretty";

function serveOptions(): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {
    config: { type: "string" },
    help: { type: "boolean", short: "h" },
  };
  for (const key of CONFIG_KEYS) options[flagName(key)] = { type: isBooleanKey(key) ? "boolean" : "string" };
  return options;
}

/** A default as the help shows it: durations as "30s", ports that are off as "off", absent ones as "-". */
export function defaultText(schema: z.ZodType): string {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success) return "-";
  const value = parsed.data;
  if (value === undefined) return "-";
  if (value === null) return "off";
  const probe = schema.safeParse("1s");
  if (probe.success && typeof probe.data === "number" && typeof value === "number") return formatDuration(value);
  return value === "" ? '""' : String(value);
}

function serveHelp(): string {
  const rows = SETTINGS.map(({ key, schema, module }) => {
    const flag = isBooleanKey(key) ? `--${flagName(key)}, --no-${flagName(key)}` : `--${flagName(key)} V`;
    const text = schema.description ?? "see docs/configuration.md";
    return { flag, text: `${module ? `(${module}) ` : ""}${text} [${defaultText(schema)}]` };
  });
  rows.unshift({ flag: "--config FILE", text: "JSON config file" });
  rows.push({ flag: "-h, --help", text: "show this help" });
  const width = Math.max(...rows.map((r) => r.flag.length));
  return `Usage: switchboard serve [options]

Runs the server. Settings come from flags, then environment variables, then the JSON config
file (--config or $SWITCHBOARD_CONFIG), then defaults. Every flag --some-name has the variable
$SWITCHBOARD_SOME_NAME and the config file key someName (--port: $SWITCHBOARD_PORT, "port").

Logs are pino JSON lines on stdout (pretty on a terminal); the line with "msg":"switchboard
listening" carries the URL. SIGINT/SIGTERM stop it gracefully (held long-polls are answered)
and exit 0; a second signal, or the shutdown timeout plus 1 s passing, exits 1 at once. A
failure to start prints one line on stderr and exits 1.

Examples:
  switchboard serve
  switchboard serve --host 0.0.0.0 --port 9000 --data-dir /var/lib/switchboard
  npm start -- --port 9000 --log-level debug

Options [default]:
${rows.map((r) => `  ${r.flag.padEnd(width)}  ${r.text}`).join("\n")}`;
}

/** What a startup failure means, in one line. */
function describeStartupError(err: unknown, config: Config | undefined): string {
  const where = config ? `${config.host}:${config.port}` : "";
  const code = (err as { code?: unknown }).code;
  if (!isSwitchboardError(err) && typeof code === "string") {
    if (code === "EADDRINUSE") return `cannot listen on ${where}: the address is already in use`;
    if (code === "EACCES") return `cannot listen on ${where}: permission denied`;
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") return `cannot listen on ${where}: no such local address`;
  }
  return err instanceof Error ? err.message : String(err);
}

export const serveCommand: Command = {
  name: "serve",
  summary: "run the server (flags override SWITCHBOARD_* env, which override --config FILE)",
  get help() {
    return serveHelp();
  },
  async run(argv, io) {
    const { values, positionals: rest } = parse({
      args: argv,
      options: serveOptions(),
      allowPositionals: true,
      allowNegative: true,
    });
    positionals(rest, 0, 0, "");
    const flags: Record<string, unknown> = {};
    if (values.config !== undefined) flags.config = values.config;
    for (const key of CONFIG_KEYS) {
      const v = values[flagName(key)];
      if (v !== undefined) flags[key] = v;
    }
    let config: Config;
    try {
      config = loadConfig(flags, io.env);
    } catch (err) {
      io.err(`switchboard: ${describeStartupError(err, undefined)}`);
      return EXIT_ERROR;
    }
    return runServer(config, io);
  },
};

async function runServer(config: Config, io: Io): Promise<number> {
  const logger = createLogger({
    level: config.logLevel,
    ...(config.logPretty === undefined ? {} : { pretty: config.logPretty }),
  });
  const exitNow = (code: number) => {
    logger.flush();
    process.exit(code);
  };
  // Signals are taken from the start, so one that arrives while the store loads still stops cleanly.
  const starting = startServer(config, { logger });
  let stopping: Promise<number> | undefined;
  let onStopped: (p: Promise<number>) => void = () => {};
  const stopped = new Promise<number>((resolve) => {
    onStopped = (p) => resolve(p);
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      exitNow(EXIT_ERROR);
      return;
    }
    logger.info({ signal }, "signal received: stopping");
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeout + 1000 }, "shutdown did not finish in time: exiting");
      exitNow(EXIT_ERROR);
    }, config.shutdownTimeout + 1000);
    stopping = starting
      .then(
        (server) => server.close().then(() => EXIT_OK),
        () => EXIT_ERROR,
      )
      .catch((err: unknown) => {
        logger.error({ err }, "shutdown failed");
        return EXIT_ERROR;
      })
      .finally(() => clearTimeout(force));
    onStopped(stopping);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await starting;
  } catch (err) {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    io.err(`switchboard: ${describeStartupError(err, config)}`);
    return EXIT_ERROR;
  }
  // The handlers stay: a signal after the stop has finished still means "exit now".
  const code = await stopped;
  logger.flush();
  return code;
}
