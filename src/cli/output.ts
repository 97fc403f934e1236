// Human output of the client commands: compact JSON values and aligned tables that fit the terminal.

/** The wire shape of a register (GET /consumer, GET /registers). */
export interface RegisterJson {
  readonly name: string;
  readonly found: boolean;
  readonly value?: unknown;
  readonly metadata?: Record<string, unknown>;
  readonly version?: number;
  readonly createRevision?: number;
  readonly modRevision?: number;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly expiresAt?: string | null;
}

export function compactJson(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/**
 * Rows padded into columns, two spaces apart. When `width` is given (a terminal), the last column
 * is cut to fit and ends with "…", so one register stays on one line.
 */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, width?: number): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const last = header.length - 1;
  return all.map((row) => {
    const cells = row.map((cell, i) => (i === last ? cell : cell.padEnd(widths[i]!)));
    let line = cells.join("  ");
    if (width !== undefined && width > 10 && line.length > width) line = `${line.slice(0, width - 1)}…`;
    return line.trimEnd();
  });
}

export function registerRows(registers: readonly RegisterJson[]): string[][] {
  return registers.map((r) =>
    r.found
      ? [r.name, String(r.version ?? ""), String(r.modRevision ?? ""), r.expiresAt ?? "-", compactJson(r.value)]
      : [r.name, "-", "-", "-", "(not found)"],
  );
}

export const REGISTER_HEADER = ["NAME", "VERSION", "REVISION", "EXPIRES", "VALUE"] as const;
