// The one duration grammar of the API, the config and the client: seconds as a number, or "500ms", "30s", "5m", "1h", "1m30s".

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const PLAIN = /^\d+(?:\.\d+)?$/;
/** Longest duration text accepted (a guard against pathological input, far above any real one). */
const MAX_TEXT = 32;

/** Thrown by parseDuration; the server turns it into INVALID_DURATION, the client into a RangeError-like failure. */
export class DurationError extends RangeError {
  readonly input: unknown;
  constructor(input: unknown) {
    super(
      `invalid duration ${JSON.stringify(input)}: expected seconds or a duration like "500ms", "30s", "5m", "1m30s"`,
    );
    this.name = "DurationError";
    this.input = input;
  }
}

/**
 * Milliseconds of a duration. A number (or a plain numeric string) counts seconds; a string is one
 * or more `<number><unit>` parts with units ms, s, m, h, added up ("1m30s" = 90 s). The result is
 * rounded to the nearest millisecond, except that a positive duration never rounds down to 0
 * ("0.0004s" is 1 ms), so "wait a little" never turns into "do not wait".
 */
export function parseDuration(input: unknown): number {
  let ms: number;
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) throw new DurationError(input);
    ms = input * 1000;
  } else if (typeof input === "string") {
    const s = input.trim();
    if (s.length === 0 || s.length > MAX_TEXT) throw new DurationError(input);
    if (PLAIN.test(s)) {
      ms = Number(s) * 1000;
    } else {
      ms = 0;
      PART.lastIndex = 0;
      while (PART.lastIndex < s.length) {
        const at = PART.lastIndex;
        const m = PART.exec(s);
        if (!m || m.index !== at) throw new DurationError(input);
        ms += Number(m[1]) * UNIT_MS[m[2]!]!;
      }
    }
  } else {
    throw new DurationError(input);
  }
  if (!Number.isFinite(ms)) throw new DurationError(input);
  const rounded = Math.round(ms);
  return rounded === 0 && ms > 0 ? 1 : rounded;
}

/** The shortest text for a duration in ms that parseDuration reads back as the same value. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
