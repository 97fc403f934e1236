// What each benchmark hands back to test/bench/run.ts, which renders them into docs/benchmarks.md.

export interface TargetResult {
  /** e.g. "wake p99, 1,000 consumers" */
  readonly what: string;
  /** e.g. "< 100 ms" */
  readonly target: string;
  /** the measured figure, formatted */
  readonly measured: string;
  /** null: not measured (say why in `measured`) */
  readonly pass: boolean | null;
}

export interface Section {
  /** "## …" heading */
  readonly title: string;
  /** Markdown: how it was measured, tables, notes. */
  readonly body: string;
  readonly targets: readonly TargetResult[];
}

export function verdict(pass: boolean | null): string {
  return pass === null ? "not measured" : pass ? "**met**" : "**missed**";
}
