// What a zod body schema shares across the HTTP protocols: issues that carry their documented error code, and bodies
// whose schema is chosen by their shape (a batch or one entry).

import type { z } from "zod";
import type { ErrorCode } from "../../core/index.js";

/** The params of a custom zod issue that names its error code. */
export const coded = (code: ErrorCode) => ({ params: { code } });

/** Codes of type errors by the field they concern (zod keeps params only on custom issues). */
const FIELD_CODES: Readonly<Record<string, ErrorCode>> = { ttl: "INVALID_DURATION", name: "INVALID_NAME" };

/** The documented code of one zod issue: its own (custom issues), else its field's, else INVALID_BODY. */
export function issueCode(issue: z.core.$ZodIssue): ErrorCode {
  const own = (issue as { params?: { code?: ErrorCode } }).params?.code;
  if (own !== undefined) return own;
  const field = issue.path.at(-1);
  return (typeof field === "string" ? FIELD_CODES[field] : undefined) ?? "INVALID_BODY";
}

/** A body is either a batch (`{registers: [...]}`) or one entry: chosen by shape, so errors speak of the right one. */
export type BodySchema<T> = (raw: unknown) => z.ZodType<T>;
