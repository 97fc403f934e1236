// The root pino logger: JSON lines, or pino-pretty when stdout is a terminal.

import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? "info";
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const base: LoggerOptions = { level, base: { service: "switchboard" } };
  if (!pretty) return pino(base);
  return pino({
    ...base,
    transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } },
  });
}

/** A logger that drops everything (tests, embedded use). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
