// Standard Schema (https://standardschema.dev) as far as the client uses it: zod, valibot, arktype … all fit.

import { ClientError } from "./errors.js";

/** The part of the Standard Schema v1 interface the client calls (types copied, as the spec intends). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string;
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
      }[];
    };

/**
 * The validated value, or a ClientError `INVALID_VALUE` (status 0: found by the client) naming the
 * register and the schema's issues. Values arrive in the middle of a poll answer, so only
 * synchronous schemas are supported; an asynchronous one is reported the same way.
 */
export function validate<T>(schema: StandardSchemaV1<unknown, T>, name: string, value: unknown): T {
  const result = schema["~standard"].validate(value);
  if (result instanceof Promise) {
    throw new ClientError(0, "INVALID_VALUE", `the schema of ${name} is asynchronous; use a synchronous one`, {
      details: { name },
    });
  }
  if (result.issues !== undefined) {
    const issues = result.issues.map((i) => ({
      message: i.message,
      path: (i.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join("."),
    }));
    throw new ClientError(0, "INVALID_VALUE", `the value of ${name} does not match its schema: ${issues[0]?.message}`, {
      details: { name, issues },
    });
  }
  return result.value;
}
