// Durations as the API and the config accept them (the grammar lives in @switchboard/wire, shared with the client).

import { DurationError, formatDuration, parseDuration as parseWire } from "@switchboard/wire";
import { SwitchboardError } from "./core/index.js";

export { formatDuration };

/** Parses a duration into milliseconds; throws INVALID_DURATION naming the field. */
export function parseDuration(input: unknown, field = "duration"): number {
  try {
    return parseWire(input);
  } catch (err) {
    if (!(err instanceof DurationError)) throw err;
    throw new SwitchboardError(
      "INVALID_DURATION",
      `${field}: expected seconds or a duration like "500ms", "30s", "5m"`,
      {
        details: { field, value: input },
      },
    );
  }
}
